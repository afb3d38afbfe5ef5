// One step of many stepped generations (Generator::Start / Next / Evaluated) in lock-step:
// each unfinished generator samples its next token and applies its stop conditions, then
// the tokens of those that continue are evaluated together by EvalBatch (one batched
// forward pass), then each passes the new token's text on. A host (`ember serve`) calls
// this once per decode step over its active generations; a generation joins by being
// started before a step and leaves by being done or left out. Since EvalBatch gives every
// session the logits it would get alone, each generation's tokens do not depend on what
// else is in the step.
#ifndef EMBER_RUNTIME_GENERATOR_STEP_H_
#define EMBER_RUNTIME_GENERATOR_STEP_H_

#include "absl/status/status.h"
#include "absl/types/span.h"
#include "lib/runtime/generator.h"

namespace ember {

struct GeneratorStep {
  Generator* generator = nullptr;
  TokenSink sink;  // the sink of that generation (the same one at every step)
};

// Advances every item whose generator is not done by one token. statuses[i] receives item
// i's generator's status() after the step (OK while it runs or after a normal end; the
// error it ended with otherwise, at this step or before). The return value is an error
// only for a malformed call (statuses.size() != items.size(), a null or repeated
// generator, two generators on one session, sessions of different models); then no
// generator was touched.
absl::Status StepGenerators(absl::Span<const GeneratorStep> items, absl::Span<absl::Status> statuses);

}  // namespace ember

#endif  // EMBER_RUNTIME_GENERATOR_STEP_H_
