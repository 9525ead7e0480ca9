#pragma once

namespace orch::persistence {

class deployment_repository;
class memory_template_repository;
class pool;
class template_repository;

struct migration;
struct migration_report;
struct pool_config;

template <class T>
struct page;

} // namespace orch::persistence
