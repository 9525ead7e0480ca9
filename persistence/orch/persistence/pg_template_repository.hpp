#pragma once

#include <memory>

#include "orch/persistence/pool.hpp"
#include "orch/persistence/template_repository.hpp"

namespace orch::persistence {

/// A `template_repository` over the `deployment_templates` table, borrowing connections from
/// `db` (which must outlive it). Removal is a soft delete (`deleted_at`). Thread-safe.
std::unique_ptr<template_repository> make_pg_template_repository(pool& db);

} // namespace orch::persistence
