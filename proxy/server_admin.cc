// The admin endpoints (Envoy's formats: docs/root/operations/admin.rst), registered by the
// Server on the main thread.

#include "absl/container/flat_hash_set.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/str_join.h"
#include "re2/re2.h"
#include "stats/prometheus.h"
#include "stats/text_format.h"
#include "proxy/server.h"
#include "xds/config_dump.h"

namespace proxy {

namespace {

using admin::AdminRequest;
using admin::AdminResponse;

std::string JsonString(absl::string_view text) {
  std::string out = "\"";
  for (char c : text) {
    if (c == '"' || c == '\\') {
      out.push_back('\\');
      out.push_back(c);
    } else if (static_cast<unsigned char>(c) < 0x20) {
      absl::StrAppend(&out, "\\u00", absl::Hex(static_cast<unsigned char>(c), absl::kZeroPad2));
    } else {
      out.push_back(c);
    }
  }
  out.push_back('"');
  return out;
}

const char* StateName(Server::State state) {
  switch (state) {
    case Server::State::kLive: return "LIVE";
    case Server::State::kDraining: return "DRAINING";
    case Server::State::kPreInitializing: return "PRE_INITIALIZING";
    case Server::State::kInitializing: return "INITIALIZING";
  }
  return "UNKNOWN";
}

// ?filter=<re2> and ?usedonly, shared by /stats and /stats/prometheus. An invalid regex is
// reported rather than ignored.
struct StatsQuery {
  bool used_only = false;
  std::shared_ptr<RE2> filter;
  std::string error;
};

StatsQuery ParseStatsQuery(const AdminRequest& request) {
  StatsQuery query;
  query.used_only = request.query.count("usedonly") > 0;
  auto it = request.query.find("filter");
  if (it != request.query.end() && !it->second.empty()) {
    query.filter = std::make_shared<RE2>(it->second, RE2::Quiet);
    if (!query.filter->ok()) query.error = absl::StrCat("Invalid regex: ", query.filter->error());
  }
  return query;
}

std::function<bool(std::string_view)> FilterFn(const StatsQuery& query) {
  if (query.filter == nullptr) return nullptr;
  std::shared_ptr<RE2> re = query.filter;
  return [re](std::string_view name) {
    return RE2::PartialMatch(re2::StringPiece(name.data(), name.size()), *re);
  };
}

}  // namespace

void Server::RegisterAdminHandlers() {
  admin_.AddHandler("/ready", "print server state, return 200 if LIVE, otherwise return 503",
                    false, [this](const AdminRequest&) {
                      const State s = state();
                      return AdminResponse{.status = s == State::kLive ? 200 : 503,
                                           .body = absl::StrCat(StateName(s), "\n")};
                    });
  admin_.AddHandler(
      "/server_info", "print server version/status information", false,
      [this](const AdminRequest&) {
        const int64_t uptime = absl::ToInt64Seconds(absl::Now() - started_);
        std::string body = absl::StrCat(
            "{\n \"version\": \"weir/0.1.0\",\n \"state\": \"", StateName(state()),
            "\",\n \"hot_restart_version\": \"disabled\",\n \"command_line_options\": {\n",
            "  \"concurrency\": ", workers_.size(),
            ",\n  \"config_path\": ", JsonString(options_.config_path),
            ",\n  \"log_level\": ", JsonString(options_.log_level),
            ",\n  \"drain_time\": \"", options_.drain_time_s, "s\"",
            ",\n  \"service_node\": ", JsonString(options_.service_node),
            ",\n  \"service_cluster\": ", JsonString(options_.service_cluster),
            ",\n  \"mode\": \"Serve\"\n },\n \"node\": {\n  \"id\": ",
            JsonString(bootstrap_.node.id), ",\n  \"cluster\": ", JsonString(bootstrap_.node.cluster),
            "\n },\n \"uptime_current_epoch\": \"", uptime, "s\",\n \"uptime_all_epochs\": \"",
            uptime, "s\"\n}\n");
        return AdminResponse{.status = 200, .content_type = "application/json", .body = body};
      });
  admin_.AddHandler("/stats", "print server stats", false, [this](const AdminRequest& request) {
    UpdateServerStats();
    StatsQuery query = ParseStatsQuery(request);
    if (!query.error.empty()) return AdminResponse{.status = 400, .body = query.error + "\n"};
    auto format = request.query.find("format");
    if (format != request.query.end() && format->second == "prometheus") {
      return AdminResponse{
          .status = 200,
          .body = stats::RenderPrometheus(
              store_, {.used_only = query.used_only, .filter = FilterFn(query)})};
    }
    if (format != request.query.end() && format->second == "json") {
      stats::Store::Listing listing = store_.List();
      std::vector<std::string> items;
      auto keep = FilterFn(query);
      for (const stats::Counter* c : listing.counters) {
        if ((query.used_only && !c->Used()) || (keep && !keep(c->name()))) continue;
        items.push_back(absl::StrCat("{\"name\":", JsonString(c->name()), ",\"value\":",
                                     c->Value(), "}"));
      }
      for (const stats::Gauge* g : listing.gauges) {
        if ((query.used_only && !g->Used()) || (keep && !keep(g->name()))) continue;
        items.push_back(absl::StrCat("{\"name\":", JsonString(g->name()), ",\"value\":",
                                     g->Value(), "}"));
      }
      return AdminResponse{.status = 200,
                           .content_type = "application/json",
                           .body = absl::StrCat("{\"stats\":[", absl::StrJoin(items, ","), "]}\n")};
    }
    return AdminResponse{
        .status = 200,
        .body = stats::RenderText(store_, {.used_only = query.used_only, .filter = FilterFn(query)})};
  });
  admin_.AddHandler("/stats/prometheus", "print server stats in prometheus format", false,
                    [this](const AdminRequest& request) {
                      UpdateServerStats();
                      StatsQuery query = ParseStatsQuery(request);
                      if (!query.error.empty()) {
                        return AdminResponse{.status = 400, .body = query.error + "\n"};
                      }
                      return AdminResponse{
                          .status = 200,
                          .body = stats::RenderPrometheus(
                              store_, {.used_only = query.used_only,
                                       .filter = FilterFn(query),
                                       .text_readouts = request.query.count("text_readouts") > 0})};
                    });
  admin_.AddHandler(
      "/listeners", "print listener info", false, [this](const AdminRequest& request) {
        const bool json = request.query.count("format") && request.query.at("format") == "json";
        std::string body;
        std::vector<std::string> items;
        for (const BoundListener& listener : bound_listeners_) {
          const std::string address = listener.endpoint.address().to_string();
          if (json) {
            items.push_back(absl::StrCat(
                "{\"name\":", JsonString(listener.name),
                ",\"local_address\":{\"socket_address\":{\"address\":", JsonString(address),
                ",\"port_value\":", listener.endpoint.port(), "}}}"));
          } else {
            absl::StrAppend(&body, listener.name, "::",
                            listener.endpoint.address().is_v6() ? "[" : "", address,
                            listener.endpoint.address().is_v6() ? "]" : "", ":",
                            listener.endpoint.port(), "\n");
          }
        }
        if (json) {
          return AdminResponse{
              .status = 200,
              .content_type = "application/json",
              .body = absl::StrCat("{\"listener_statuses\":[", absl::StrJoin(items, ","), "]}\n")};
        }
        return AdminResponse{.status = 200, .body = body};
      });
  admin_.AddHandler("/clusters", "upstream cluster status", false, [this](const AdminRequest&) {
    std::string body;
    absl::flat_hash_set<std::string> static_clusters;
    for (const auto& cluster : bootstrap_.clusters) static_clusters.insert(cluster->config().name);
    for (const auto& [name, entry] : serving_->clusters) {
      const routing::CircuitBreakerConfig& cb = entry->cluster->config().circuit_breakers;
      absl::StrAppend(&body, name, "::default_priority::max_connections::", cb.max_connections,
                      "\n", name, "::default_priority::max_pending_requests::",
                      cb.max_pending_requests, "\n", name,
                      "::default_priority::max_requests::", cb.max_requests, "\n", name,
                      "::default_priority::max_retries::", cb.max_retries, "\n", name,
                      "::added_via_api::", static_clusters.contains(name) ? "false" : "true",
                      "\n");
      for (const UpstreamHost& host : entry->hosts) {
        const std::string prefix = absl::StrCat(name, "::", host.address, "::");
        absl::StrAppend(&body, prefix, "hostname::", host.hostname, "\n", prefix,
                        "health_flags::", host.healthy ? "healthy" : "/failed_eds_health", "\n",
                        prefix, "weight::", host.weight, "\n", prefix, "priority::0\n", prefix,
                        "success_rate::-1\n", prefix, "local_origin_success_rate::-1\n");
      }
    }
    return AdminResponse{.status = 200, .body = body};
  });
  admin_.AddHandler("/config_dump", "dump current Envoy configs", false,
                    [this](const AdminRequest&) {
                      return AdminResponse{.status = 200,
                                           .content_type = "application/json",
                                           .body = xds::RenderConfigDump(bootstrap_, started_,
                                                                          dynamic_.get())};
                    });
  admin_.AddHandler("/healthcheck/fail", "cause the server to fail health checks", true,
                    [this](const AdminRequest&) {
                      flags_.health_check_failed.store(true, std::memory_order_relaxed);
                      UpdateServerStats();
                      return AdminResponse{.status = 200, .body = "OK\n"};
                    });
  admin_.AddHandler("/healthcheck/ok", "cause the server to pass health checks", true,
                    [this](const AdminRequest&) {
                      flags_.health_check_failed.store(false, std::memory_order_relaxed);
                      UpdateServerStats();
                      return AdminResponse{.status = 200, .body = "OK\n"};
                    });
  admin_.AddHandler(
      "/drain_listeners", "drain listeners (?graceful: keep accepting for the drain period)",
      true, [this](const AdminRequest& request) {
        const bool graceful = request.query.count("graceful") > 0;
        StartDrain(/*exit_when_done=*/false,
                   graceful ? absl::Seconds(options_.drain_time_s) : absl::ZeroDuration());
        return AdminResponse{.status = 200, .body = "OK\n"};
      });
  admin_.AddHandler("/quitquitquit", "exit the server", true, [this](const AdminRequest&) {
    // Answer first; shut down once the response is on its way.
    boost::asio::post(io_, [this] { Shutdown(); });
    return AdminResponse{.status = 200, .body = "OK\n"};
  });
}

}  // namespace proxy
