/*
** simple_generate.c — the smallest complete ember program: load a model, stream a
** continuation of a prompt, free everything.
**
**   cc simple_generate.c -lember -o simple_generate
**   ./simple_generate model.gguf "Once upon a time" 100
*/
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "ember/ember.h"

/* Called for every generated token; returning non-zero would stop generation. */
static int32_t on_token(void *user_data, int32_t token, const char *text, size_t text_len) {
  (void)token;
  (void)user_data;
  fwrite(text, 1, text_len, stdout);
  fflush(stdout);
  return 0;
}

static int fail(const char *what, ember_status status) {
  fprintf(stderr, "%s failed: %s: %s\n", what, ember_status_name(status), ember_last_error());
  return 1;
}

int main(int argc, char **argv) {
  if (argc < 3) {
    fprintf(stderr, "usage: %s MODEL PROMPT [MAX_TOKENS]\n", argv[0]);
    return 2;
  }
  const char *prompt = argv[2];
  int32_t max_tokens = argc > 3 ? atoi(argv[3]) : 100;

  ember_model *model = NULL;
  ember_status st = ember_model_load(argv[1], NULL, &model); /* NULL = default options */
  if (st != EMBER_OK) return fail("ember_model_load", st);

  /* A seeded sampler: the same seed gives the same story every run. */
  ember_sampler_options *sampler = NULL;
  ember_session_options *options = NULL;
  ember_session *session = NULL;
  st = ember_sampler_options_create(&sampler);
  if (st == EMBER_OK) st = ember_sampler_options_set_temperature(sampler, 0.8f);
  if (st == EMBER_OK) st = ember_sampler_options_set_top_p(sampler, 0.95f);
  if (st == EMBER_OK) st = ember_sampler_options_set_seed(sampler, 42);
  if (st == EMBER_OK) st = ember_session_options_create(&options);
  if (st == EMBER_OK) st = ember_session_options_set_sampler(options, sampler);
  if (st == EMBER_OK) st = ember_session_create(model, options, &session);
  ember_session_options_free(options); /* options are copied: free them right away */
  ember_sampler_options_free(sampler);
  if (st != EMBER_OK) {
    ember_model_free(model);
    return fail("session setup", st);
  }

  fputs(prompt, stdout);
  int32_t n_generated = 0;
  st = ember_session_generate(session, prompt, strlen(prompt), EMBER_TOKENIZE_DEFAULT, max_tokens,
                              EMBER_GENERATE_DEFAULT, on_token, NULL, &n_generated);
  fputc('\n', stdout);

  ember_session_free(session);
  ember_model_free(model);
  if (st != EMBER_OK) return fail("ember_session_generate", st);
  fprintf(stderr, "%d tokens generated\n", n_generated);
  return 0;
}
