// A C++17 host of the installed ember.hpp: greedy continuation of a prompt, printed like
// examples/simple_generate.c prints it.  usage: cpp_generate MODEL PROMPT MAX_TOKENS
#include <cstdio>
#include <cstdlib>
#include <iostream>

#include "ember/ember.hpp"

int main(int argc, char** argv) {
  if (argc < 4) {
    std::cerr << "usage: " << argv[0] << " MODEL PROMPT MAX_TOKENS\n";
    return 2;
  }
  try {
    ember::Model model(argv[1]);
    ember::Session session(model);
    std::cout << argv[2];
    const int32_t n = session.generate(argv[2], std::atoi(argv[3]), [](int32_t, std::string_view text) {
      std::cout << text;
      return true;
    });
    std::cout << "\n";
    std::cerr << n << " tokens generated\n";
  } catch (const ember::Error& e) {
    std::cerr << e.what() << "\n";
    return 1;
  }
  return 0;
}
