// What the NCCL watchdog makes of cudaEventQuery on an all-reduce's completion event. Pure (host
// code against the runtime's error enum), so that the classification is tested without a GPU.
#pragma once

#include <cuda_runtime_api.h>

namespace lb::cuda {

enum class EventState {
  Done,      // the work before the event has completed
  Pending,   // not yet
  Unusable,  // the event says nothing now, through no fault of the communication: it was recorded
             // again inside a graph capture (cudaErrorCapturedEvent), or a capture in progress
             // forbids the query; the watchdog drops it (a later event on the serial comm stream
             // covers its work)
  Failed,    // a real error (e.g. an illegal address, a launch failure): the communicator is aborted
};

inline EventState classify_event_query(cudaError_t e) {
  switch (e) {
    case cudaSuccess:
      return EventState::Done;
    case cudaErrorNotReady:
      return EventState::Pending;
    case cudaErrorCapturedEvent:
    case cudaErrorStreamCaptureUnsupported:
    case cudaErrorStreamCaptureInvalidated:
    case cudaErrorStreamCaptureImplicit:
    case cudaErrorStreamCaptureWrongThread:
    case cudaErrorStreamCaptureIsolation:
      return EventState::Unusable;
    default:
      return EventState::Failed;
  }
}

}  // namespace lb::cuda
