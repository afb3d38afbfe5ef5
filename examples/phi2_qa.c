/*
** phi2_qa.c — ask Phi-2 a question in its documented QA format and stream the answer.
**
**   ./phi2_qa MODEL "What is the boiling point of water at sea level?" [MAX_TOKENS]
**
** MODEL is a Phi-2 GGUF file (e.g. phi-2.Q8_0.gguf) or the Hugging Face directory as
** downloaded (config.json, *.safetensors, tokenizer.json): the same call loads both.
**
** Phi-2 was trained on the prompt format
**     Instruct: <question>\nOutput:
** and marks the end of an answer with <|endoftext|>, which ember_session_generate stops at.
** Phi-2 often goes on after its answer with an unrelated new "Instruct:" or exercise instead
** of <|endoftext|>, so this example also stops at the first blank line ("\n\n") once some
** answer text has been produced: by convention, an answer is one paragraph.
*/
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "ember/ember.h"

struct answer {
  char tail[2];   /* the last two characters printed, to spot "\n\n" */
  int printed;    /* non-whitespace characters printed so far */
};

static int32_t on_token(void *user_data, int32_t token, const char *text, size_t len) {
  struct answer *a = (struct answer *)user_data;
  (void)token;
  for (size_t i = 0; i < len; ++i) {
    a->tail[0] = a->tail[1];
    a->tail[1] = text[i];
    if (a->printed > 0 && a->tail[0] == '\n' && a->tail[1] == '\n') return 1; /* blank line: stop */
    if (text[i] != ' ' && text[i] != '\n') a->printed++;
    if (!(a->printed == 0 && (text[i] == ' ' || text[i] == '\n'))) putchar(text[i]);
  }
  fflush(stdout);
  return 0;
}

int main(int argc, char **argv) {
  if (argc < 3) {
    fprintf(stderr, "usage: %s MODEL QUESTION [MAX_TOKENS]\n", argv[0]);
    return 2;
  }
  int32_t max_tokens = argc > 3 ? atoi(argv[3]) : 200;

  /* "Instruct: " + question + "\nOutput:" */
  size_t qlen = strlen(argv[2]);
  char *prompt = malloc(qlen + 32);
  if (prompt == NULL) return 1;
  snprintf(prompt, qlen + 32, "Instruct: %s\nOutput:", argv[2]);

  ember_model *model = NULL;
  ember_session *session = NULL;
  ember_status st = ember_model_load(argv[1], NULL, &model);
  if (st == EMBER_OK) st = ember_session_create(model, NULL, &session); /* greedy by default */
  if (st != EMBER_OK) {
    fprintf(stderr, "error: %s: %s\n", ember_status_name(st), ember_last_error());
    ember_model_free(model);
    free(prompt);
    return 1;
  }

  struct answer a = {{0, 0}, 0};
  int32_t n = 0;
  st = ember_session_generate(session, prompt, strlen(prompt), EMBER_TOKENIZE_DEFAULT, max_tokens,
                              EMBER_GENERATE_DEFAULT, on_token, &a, &n);
  putchar('\n');
  if (st != EMBER_OK) fprintf(stderr, "error: %s: %s\n", ember_status_name(st), ember_last_error());
  else fprintf(stderr, "[%d tokens]\n", n);

  ember_session_free(session);
  ember_model_free(model);
  free(prompt);
  return st == EMBER_OK ? 0 : 1;
}
