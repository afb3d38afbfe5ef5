// OpenAI-shaped errors: {"error": {"message", "type", "param", "code"}} with an HTTP status.
#ifndef EMBER_SERVER_API_ERROR_H_
#define EMBER_SERVER_API_ERROR_H_

#include <string>

namespace ember::server {

struct ApiError {
  int http_status = 400;
  std::string message;
  std::string type = "invalid_request_error";
  std::string param;  // empty renders as null
  std::string code;   // empty renders as null
};

// 400 invalid_request_error about one parameter (param may be empty).
ApiError BadRequest(std::string message, std::string param = "", std::string code = "");

// The JSON body of an error response.
std::string ErrorBody(const ApiError& error);

}  // namespace ember::server

#endif  // EMBER_SERVER_API_ERROR_H_
