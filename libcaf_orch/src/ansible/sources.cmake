# Ansible configuration runs, the pure parts (playbook names, inventories, job events); included
# by libcaf_orch/CMakeLists.txt.
target_sources(orch_core PRIVATE
  ${CMAKE_CURRENT_LIST_DIR}/inventory.cpp
  ${CMAKE_CURRENT_LIST_DIR}/job_events.cpp
  ${CMAKE_CURRENT_LIST_DIR}/output_buffer.cpp
  ${CMAKE_CURRENT_LIST_DIR}/playbook.cpp)
