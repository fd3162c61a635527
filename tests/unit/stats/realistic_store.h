#pragma once

// The store behind the golden files in testdata/: two clusters, an HTTP connection manager with
// RDS, a listener, server gauges, histograms with known samples, and values that need escaping.
// testdata/prometheus.txt and testdata/stats.txt were written by hand from this content.

#include <fstream>
#include <sstream>
#include <string>

#include "stats/store.h"

namespace stats::testing {

inline void PopulateRealisticStore(Store& store) {
  for (const char* cluster : {"v1", "v2"}) {
    const std::string prefix = std::string("cluster.") + cluster + ".";
    const bool v2 = std::string(cluster) == "v2";
    store.GetCounter(prefix + "upstream_rq_total").Add(v2 ? 10 : 5);
    store.GetCounter(prefix + "upstream_rq_2xx").Add(v2 ? 7 : 5);
    store.GetCounter(prefix + "upstream_rq_5xx").Add(v2 ? 3 : 0);
    store.GetCounter(prefix + "upstream_rq_200").Add(v2 ? 7 : 5);
    store.GetCounter(prefix + "upstream_rq_503").Add(v2 ? 3 : 0);
    store.GetGauge(prefix + "upstream_cx_active").Add(v2 ? 4 : 2);
    store.GetGauge(prefix + "upstream_rq_pending_active");  // v1: never touched.
  }
  Gauge& pending = store.GetGauge("cluster.v2.upstream_rq_pending_active");
  pending.Inc();
  pending.Dec();  // Used, but back to 0.
  store.GetCounter("cluster.we\"ird\\name.upstream_rq_total").Inc();

  Histogram& v1_time = store.GetHistogram("cluster.v1.upstream_rq_time");
  for (uint64_t ms : {3, 7, 120}) v1_time.Record(ms);
  Histogram& v2_time = store.GetHistogram("cluster.v2.upstream_rq_time");
  for (uint64_t ms : {0, 1, 5, 25, 3600000, 3600001}) v2_time.Record(ms);
  store.GetHistogram("http.ingress.downstream_rq_time");  // No samples.

  store.GetCounter("http.ingress.downstream_rq_2xx").Add(12);
  store.GetCounter("http.ingress.rds.local_route.update_success").Inc();
  store.GetCounter("listener.0.0.0.0_8000.downstream_cx_total").Add(4);
  store.GetCounter("listener.0.0.0.0_8000.http.ingress.downstream_rq_2xx").Add(12);
  store.GetCounter("listener.admin.downstream_cx_total").Inc();
  store.GetCounter("cluster_manager.cds.update_success").Add(2);
  store.GetGauge("server.live").Set(1);
  store.GetGauge("server.uptime").Set(3600);

  store.GetTextReadout("cluster_manager.cds.version_text").Set("v3");
  store.GetTextReadout("http.ingress.rds.local_route.version_text").Set("line1\nsay \"hi\" \\ bye");
}

inline std::string ReadTestData(const std::string& file) {
  std::ifstream in(std::string(WEIR_STATS_TESTDATA) + "/" + file, std::ios::binary);
  std::stringstream contents;
  contents << in.rdbuf();
  return contents.str();
}

}  // namespace stats::testing
