#pragma once

namespace orch::http {

class authenticator;
class blocking_pool;
class cors_policy;
class event_feed;
class gateway;
class rate_limiter;
class responder;
class response_sink;
class route_match;
class router;
class server;
class stream_writer;

struct event_feed_config;
struct event_feed_metrics;
struct gateway_config;
struct http_metrics;
struct problem;
struct request_context;
struct server_config;

} // namespace orch::http
