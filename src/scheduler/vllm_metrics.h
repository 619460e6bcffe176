// The model server protocol: the series a Kubernetes inference gateway's endpoint picker (Gateway
// API Inference Extension, llm-d) scrapes to route each request, under vLLM's exact names, types
// and labels, so a picker configured for vLLM needs no flags for corral. They are views of
// corral's own per-model numbers (serving_metrics.h), computed at scrape time: no second set of
// counters to keep in step, and corral's "corral:" series stay as they are.
//
// Labels: model_name (the model's display name, as vLLM's --served-model-name) and engine="0"
// (vLLM numbers its engine cores; corral has one engine per model). Histograms keep corral's
// buckets (CPU latencies reach minutes), which Prometheus allows to differ from vLLM's.
#pragma once

#include "base/metrics.h"

namespace corral::scheduler {

class ServingMetrics;

// Registers the vllm:* families into `registry`, reading `source`'s models at each scrape.
// `source` must outlive the registry's renders (it owns the registry).
void register_vllm_metrics(metrics::Registry& registry, ServingMetrics& source);

}  // namespace corral::scheduler
