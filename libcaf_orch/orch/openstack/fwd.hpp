#pragma once

// Forward declarations of the OpenStack client's public types.

namespace orch::openstack {

class circuit_breaker;
class client;
class client_observer;
class clock;
class endpoint_allowlist;
class governor;
class http_transport;
class timer;

struct auth_token;
struct breaker_config;
struct call_report;
struct client_config;
struct http_call;
struct http_result;
struct os_error;
struct password_credentials;
struct retry_policy;
struct transport_failure;

enum class breaker_state;
enum class os_error_kind;
enum class service;
enum class transport_error;

template <class T>
class result;

} // namespace orch::openstack
