#pragma once

// Forward declarations of orch_schemas' types.
namespace orch::schemas {

class json_writer;

struct request_error;

} // namespace orch::schemas
