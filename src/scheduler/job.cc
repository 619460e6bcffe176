#include "scheduler/job.h"

namespace corral::scheduler {

const char* done_reason_name(DoneReason r) {
  switch (r) {
    case DoneReason::kStop: return "stop";
    case DoneReason::kLength: return "length";
    case DoneReason::kCancelled: return "cancelled";
  }
  return "stop";
}

bool Job::finish(const JobEvent& e) {
  if (finished_.exchange(true)) return false;
  if (on_event) on_event(e);
  return true;
}

}  // namespace corral::scheduler
