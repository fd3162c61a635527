#include "proxy/stream_proxy.h"

#include <functional>
#include <memory>

#include "absl/cleanup/cleanup.h"
#include "absl/functional/function_ref.h"
#include "absl/strings/match.h"
#include "absl/strings/numbers.h"
#include "absl/strings/str_cat.h"
#include "boost/asio/co_spawn.hpp"
#include "boost/asio/detached.hpp"
#include "proxy/async_event.h"
#include "proxy/deadline_sweeper.h"
#include "proxy/http1/forwarding.h"
#include "proxy/local_reply_text.h"
#include "proxy/upstream/exchange.h"
#include "proxy/worker.h"

namespace proxy {
namespace {

namespace asio = boost::asio;
using Clock = std::chrono::steady_clock;
using upstream::ExchangeEvent;
using upstream::ExchangeFailure;
using Kind = ExchangeEvent::Kind;

int64_t ElapsedMs(Clock::time_point since) {
  return std::chrono::duration_cast<std::chrono::milliseconds>(Clock::now() - since).count();
}

std::optional<int> GrpcStatus(const http::HeaderMap& headers) {
  std::optional<absl::string_view> value = headers.Get("grpc-status");
  int status = 0;
  if (!value.has_value() || !absl::SimpleAtoi(*value, &status) || status < 0) return std::nullopt;
  return status;
}

// Fires a callback at the stream's next deadline (the worker's sweeper ticks every 20 ms). The
// callback is a lambda of the same coroutine frame, declared before this object.
class StreamDeadline : public Deadline {
 public:
  StreamDeadline(DeadlineSweeper* sweeper, absl::FunctionRef<void()> fire) : fire_(fire) {
    Register(sweeper);
  }

 private:
  void OnDeadline() override { fire_(); }
  absl::FunctionRef<void()> fire_;
};

}  // namespace

bool IsGrpcRequest(const http::HeaderMap& headers) {
  std::optional<absl::string_view> type = headers.Get("content-type");
  return type.has_value() && absl::StartsWithIgnoreCase(*type, "application/grpc") &&
         (type->size() == 16 || (*type)[16] == '+' || (*type)[16] == ';');
}

Task<bool> SendLocalReply(DownstreamStream& downstream, const LocalReply& reply,
                          absl::string_view server_name, absl::string_view date) {
  http::HeaderMap headers;
  if (reply.headers != nullptr) {
    reply.headers->ForEach(
        [&](absl::string_view name, absl::string_view value) { headers.Add(name, value); });
  }
  if (reply.grpc) {
    // A trailers-only gRPC response (Envoy's local replies to gRPC requests).
    headers.Add("content-type", "application/grpc");
    headers.Add("grpc-status", absl::StrCat(GrpcStatusForHttp(reply.status, reply.timeout)));
    if (!reply.body.empty()) headers.Add("grpc-message", reply.body);
    if (!date.empty()) headers.Add("date", date);
    headers.Add("server", server_name);
    co_return co_await downstream.SendHeaders(200, headers, /*end_stream=*/true);
  }
  const bool has_body = !reply.body.empty() && !reply.head_request;
  if (!reply.body.empty()) headers.Add("content-type", "text/plain");
  if (reply.status >= 200 && reply.status != 204 && reply.status != 304) {
    headers.Add("content-length", absl::StrCat(reply.body.size()));
  }
  if (!date.empty()) headers.Add("date", date);
  headers.Add("server", server_name);
  if (!co_await downstream.SendHeaders(reply.status, headers, !has_body)) co_return false;
  if (!has_body) co_return true;
  co_return co_await downstream.SendData(reply.body, /*end_stream=*/true);
}

Task<void> ProxyStream(Worker& worker, const ListenerEntry& listener,
                       const RouteDecision& decision, const StreamRequest& request,
                       DownstreamStream& downstream) {
  HttpStats& http = *listener.http;
  const xds::HttpConnectionManagerConfig& hcm = listener.config->http;
  const routing::RouteActionConfig& action = *decision.action;
  const bool grpc = IsGrpcRequest(*request.headers);
  auto reply = [&](int status, absl::string_view body, bool timeout = false) -> Task<bool> {
    LocalReply local{.status = status,
                     .body = body,
                     .grpc = grpc,
                     .timeout = timeout,
                     .head_request = request.head_request};
    co_return co_await SendLocalReply(downstream, local, hcm.server_name, worker.date_header());
  };

  WorkerCluster* cluster = worker.AcquireCluster(decision.pick.cluster);
  if (cluster == nullptr) {
    http.no_cluster.Inc();
    co_await reply(static_cast<int>(action.cluster_not_found_response_code),
                   absl::StrCat("cluster not found: ", decision.pick.cluster));
    co_return;
  }
  absl::Cleanup release_cluster = [&] { worker.ReleaseCluster(cluster); };
  ClusterStats& stats = *cluster->entry->stats;
  auto charge_cluster = [&](int status) {
    if (hcm.router_dynamic_stats) stats.codes.Charge(status);
  };
  std::optional<size_t> host_index =
      cluster->picker != nullptr ? cluster->picker->Pick(worker.random().Next()) : std::nullopt;
  if (!host_index.has_value()) {
    stats.upstream_cx_none_healthy.Inc();
    charge_cluster(503);
    if (grpc) stats.grpc.Charge(GrpcStatusForHttp(503, false));
    co_await reply(503, local_reply::kNoHealthyUpstream);
    co_return;
  }
  const UpstreamHost& host = cluster->entry->hosts[*host_index];
  const uint64_t generation = cluster->generation;
  cluster->picker->OnRequestStart(*host_index);
  stats.upstream_rq_total.Inc();
  stats.upstream_rq_active.Inc();
  absl::Cleanup end_request = [&] {
    stats.upstream_rq_active.Dec();
    if (cluster->generation == generation) cluster->picker->OnRequestEnd(*host_index);
  };

  // The upstream request head.
  http1::UpstreamRequest up;
  up.method = request.method;
  up.path = decision.rewritten_path.empty() ? request.path : decision.rewritten_path;
  const auto* weighted = decision.pick.weighted_cluster;
  if (weighted != nullptr && !weighted->host_rewrite_literal.empty()) {
    up.authority = weighted->host_rewrite_literal;
  } else if (!action.host_rewrite_literal.empty()) {
    up.authority = action.host_rewrite_literal;
  } else if (action.auto_host_rewrite && !host.hostname.empty()) {
    up.authority = host.hostname;
  } else {
    up.authority = request.authority;
  }
  up.forwarded_proto = request.forwarded_proto;
  if (hcm.use_remote_address && !hcm.skip_xff_append) {
    up.append_forwarded_for = request.remote_address;
  }
  Worker::RequestId request_id;
  if (hcm.generate_request_id && !request.headers->Has("x-request-id")) {
    request_id = worker.NewRequestId();
    up.request_id = absl::string_view(request_id.data(), request_id.size());
  }
  absl::Duration route_timeout = action.timeout;
  if (grpc) {
    std::optional<absl::Duration> deadline =
        ParseGrpcTimeout(request.headers->Get("grpc-timeout").value_or(""));
    if (action.grpc_timeout_header_max.has_value()) {
      // Envoy's max_stream_duration.grpc_timeout_header_max: the header is the timeout, capped.
      if (deadline.has_value()) {
        const absl::Duration max = *action.grpc_timeout_header_max;
        route_timeout = max > absl::ZeroDuration() ? std::min(*deadline, max) : *deadline;
      }
    } else if (deadline.has_value()) {
      // The call cannot outlive its deadline: it caps the route timeout.
      route_timeout = route_timeout > absl::ZeroDuration() ? std::min(route_timeout, *deadline)
                                                           : *deadline;
    }
  }
  if (route_timeout > absl::ZeroDuration() && !hcm.suppress_envoy_headers) {
    up.expected_timeout = route_timeout;
  }
  if (request.content_length.has_value()) {
    up.framing = http1::BodyFraming::kContentLength;
    up.content_length = *request.content_length;
  } else if (request.has_body) {
    up.framing = http1::BodyFraming::kChunked;  // for an HTTP/1.1 upstream
  }
  const upstream::ExchangeRequest exchange_request{.head = &up,
                                                   .received_headers = request.headers,
                                                   .has_body = request.has_body,
                                                   .head_request = request.head_request};
  const Executor executor = worker.io().get_executor();
  std::unique_ptr<upstream::Exchange> exchange =
      cluster->entry->cluster->config().protocol == routing::UpstreamProtocol::kHttp2
          ? upstream::MakeH2Exchange(worker, cluster, *host_index, host)
          : upstream::MakeH1Exchange(worker, cluster, *host_index, host, generation);

  // Deadlines: the stream's idle timeout all along, the route timeout from the end of the
  // request to the end of the response.
  enum class Expired { kNone, kRoute, kIdle };
  Expired expired = Expired::kNone;
  bool client_gone = false;
  const absl::Duration idle = action.idle_timeout.value_or(hcm.stream_idle_timeout);
  std::optional<Clock::time_point> request_end;
  bool headers_sent = false;
  // As std::chrono durations once: rearm() runs per event.
  const bool has_idle = idle > absl::ZeroDuration();
  const bool has_route_timeout = route_timeout > absl::ZeroDuration();
  const auto idle_chrono = absl::ToChronoNanoseconds(idle);
  const auto route_timeout_chrono = absl::ToChronoNanoseconds(route_timeout);
  auto on_deadline = [&] {
    const auto now = Clock::now();
    expired = request_end.has_value() && has_route_timeout &&
                      now >= *request_end + route_timeout_chrono
                  ? Expired::kRoute
                  : Expired::kIdle;
    exchange->Cancel();
    // Before the response head the client is still owed a local reply (504, or a gRPC
    // DEADLINE_EXCEEDED): cancelling the downstream now would make that reply fail and reset
    // the stream instead. A request body still being read is stopped once the reply is out.
    if (headers_sent) downstream.Cancel();
  };
  StreamDeadline deadline(&worker.sweeper(), on_deadline);
  auto rearm = [&] {
    Clock::time_point when = Clock::time_point::max();
    // The worker's tick time is precise enough for the idle timeout (the sweeper fires on ticks)
    // and saves a clock read per event.
    if (has_idle) when = worker.coarse_now() + idle_chrono;
    if (request_end.has_value() && has_route_timeout) {
      when = std::min(when, *request_end + route_timeout_chrono);
    }
    if (when == Clock::time_point::max()) {
      deadline.Disarm();
    } else {
      deadline.ArmAt(when);
    }
  };
  // The route timeout runs from the end of the client's request, as Envoy's: a request without a
  // body is complete now, so waiting for an upstream connection or stream counts against it.
  const auto upstream_start = request.received_at;
  if (!request.has_body) request_end = upstream_start;
  rearm();
  downstream.on_client_reset = [&] {
    client_gone = true;
    exchange->Cancel();
  };
  absl::Cleanup forget_client = [&] { downstream.on_client_reset = nullptr; };

  const bool started = co_await exchange->Start(exchange_request);

  // The request body goes upstream in its own coroutine while the response comes back here.
  AsyncEvent pump_done(executor);
  bool pump_running = started && request.has_body;
  if (pump_running) {
    asio::co_spawn(
        executor,
        [&]() -> Task<void> {
          while (true) {
            DownstreamStream::Body body = co_await downstream.ReadBody();
            if (body.failed) {
              if (expired == Expired::kNone) {
                client_gone = true;
                exchange->Cancel();
              }
              break;
            }
            bool ok = true;
            if (body.trailers != nullptr) {
              if (!body.data.empty()) ok = co_await exchange->SendData(body.data, false);
              ok = ok && co_await exchange->SendTrailers(*body.trailers);
            } else if (!body.data.empty() || body.end) {
              ok = co_await exchange->SendData(body.data, body.end);
            }
            if (!ok) break;  // the upstream failed: the response side reports it
            if (body.end) {
              request_end = Clock::now();
              rearm();
              break;
            }
            rearm();
          }
          pump_running = false;
          pump_done.Notify();
        },
        asio::detached);
  }
  rearm();

  bool done = false;
  std::optional<int> grpc_status;
  int status = 0;
  while (!done) {
    std::optional<ExchangeEvent> buffered = exchange->NextBuffered();
    if (!buffered.has_value()) {
      ExchangeEvent next = co_await exchange->Next();
      buffered = next;
    }
    const ExchangeEvent& event = *buffered;
    rearm();
    switch (event.kind) {
      case Kind::kHeaders: {
        status = event.status;
        charge_cluster(status);
        if (grpc && event.end_stream) grpc_status = GrpcStatus(*event.headers);
        http1::DownstreamResponse head;
        head.status = status;
        head.server_name = hcm.server_name;
        head.date = worker.date_header();
        if (!hcm.suppress_envoy_headers) head.upstream_service_time_ms = ElapsedMs(upstream_start);
        if (event.content_length.has_value()) {
          head.framing = http1::BodyFraming::kContentLength;
          head.content_length = *event.content_length;
        }
        http::HeaderMap& out = *event.headers;  // the exchange's, rewritten in place
        http1::RewriteDownstreamHeaders(head, &out);
        headers_sent = true;
        std::optional<bool> sent = downstream.SendHeadersNow(status, out, event.end_stream);
        if (!sent.has_value()) {
          const bool ok = co_await downstream.SendHeaders(status, out, event.end_stream);
          sent = ok;
        }
        if (!*sent) {
          client_gone = expired == Expired::kNone;
          done = true;
        }
        done = done || event.end_stream;
        break;
      }
      case Kind::kData: {
        std::optional<bool> sent = downstream.SendDataNow(event.data, event.end_stream);
        if (!sent.has_value()) {
          const bool ok = co_await downstream.SendData(event.data, event.end_stream);
          sent = ok;
        }
        if (!*sent) {
          client_gone = expired == Expired::kNone;
          done = true;
        }
        done = done || event.end_stream;
        break;
      }
      case Kind::kTrailers: {
        if (grpc) grpc_status = GrpcStatus(*event.headers);
        std::optional<bool> sent = downstream.SendTrailersNow(*event.headers);
        if (!sent.has_value()) {
          const bool ok = co_await downstream.SendTrailers(*event.headers);
          sent = ok;
        }
        if (!*sent) client_gone = expired == Expired::kNone;
        done = true;
        break;
      }
      case Kind::kEnd:
        if (headers_sent && !downstream.SendDataNow("", /*end_stream=*/true).has_value()) {
          co_await downstream.SendData("", /*end_stream=*/true);
        }
        done = true;
        break;
      case Kind::kFailed: {
        done = true;
        if (client_gone) {
          stats.upstream_rq_cancelled.Inc();
          break;
        }
        if (expired == Expired::kRoute) {
          stats.upstream_rq_timeout.Inc();
          if (headers_sent) {
            http.rq_reset_after_downstream_response_started.Inc();
            downstream.Reset();
          } else {
            charge_cluster(504);
            status = 504;
            if (grpc) grpc_status = GrpcStatusForHttp(504, /*timeout=*/true);
            co_await reply(504, local_reply::kUpstreamTimeout, /*timeout=*/true);
          }
          break;
        }
        if (expired == Expired::kIdle) {
          http.downstream_rq_idle_timeout.Inc();
          if (headers_sent) {
            downstream.Reset();
          } else {
            status = 504;
            if (grpc) grpc_status = GrpcStatusForHttp(504, /*timeout=*/true);
            co_await reply(504, "stream timeout", /*timeout=*/true);
          }
          break;
        }
        absl::string_view text = local_reply::kResetBeforeHeaders;
        switch (event.failure) {
          case ExchangeFailure::kConnectFailure: text = local_reply::kConnectFailure; break;
          case ExchangeFailure::kConnectTimeout: text = local_reply::kConnectTimeout; break;
          case ExchangeFailure::kProtocolError: text = local_reply::kUpstreamProtocolError; break;
          default:
            stats.upstream_rq_rx_reset.Inc();
            break;
        }
        if (headers_sent) {
          http.rq_reset_after_downstream_response_started.Inc();
          downstream.Reset();
        } else {
          charge_cluster(503);
          status = 503;
          if (grpc) grpc_status = GrpcStatusForHttp(503, false);
          co_await reply(503, text);
        }
        break;
      }
    }
  }
  deadline.Disarm();
  if (hcm.router_dynamic_stats && status != 0) {
    stats.upstream_rq_time.Record(static_cast<uint64_t>(ElapsedMs(upstream_start)));
  }
  if (grpc && !client_gone) {
    // No grpc-status at all: gRPC's rule is UNKNOWN for a 200, the mapped status otherwise.
    if (!grpc_status.has_value() && status != 0) {
      grpc_status = status == 200 ? 2 : GrpcStatusForHttp(status, false);
    }
    if (grpc_status.has_value()) stats.grpc.Charge(*grpc_status);
  }
  if (pump_running) {
    exchange->Cancel();
    downstream.Cancel();
    co_await pump_done.Wait();
  }
}

}  // namespace proxy
