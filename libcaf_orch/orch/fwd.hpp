#pragma once

#include <cstdint>

// Forward declarations of libcaf_orch's types, for headers that only pass them by reference.
namespace orch {

enum class api_scope : uint8_t;
enum class config_use;
enum class errc : uint8_t;
enum class ip_family : uint8_t;
enum class log_format : uint8_t;

class json_log_formatter;
class redactor;
class text_log_formatter;

struct ansible_config;
struct api_key;
struct cidr;
struct cluster_config;
struct config;
struct database_config;
struct field_error;
struct http_config;
struct log_config;
struct network_spec;
struct openstack_config;
struct stored_template;
struct template_spec;
struct uuid;
struct vm_group_spec;
struct volume_spec;

} // namespace orch
