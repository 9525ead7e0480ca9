# The deployment domain (model, event log, state machine, restart budget); included by
# libcaf_orch/CMakeLists.txt.
target_sources(orch_core PRIVATE
  ${CMAKE_CURRENT_LIST_DIR}/deployment_fsm.cpp
  ${CMAKE_CURRENT_LIST_DIR}/events.cpp
  ${CMAKE_CURRENT_LIST_DIR}/model.cpp
  ${CMAKE_CURRENT_LIST_DIR}/restart_budget.cpp)
