// One-line wrappers for libcurl's variadic calls, which Swift cannot call directly.
// All logic stays in Swift (TriageMail); nothing here may grow beyond one call per function.
#ifndef MAILTRIAGE_CCURL_H
#define MAILTRIAGE_CCURL_H
#include <curl/curl.h>

typedef size_t (*ccurl_data_cb)(char *ptr, size_t size, size_t nmemb, void *userdata);

typedef int (*ccurl_xferinfo_cb)(void *clientp, curl_off_t dltotal, curl_off_t dlnow, curl_off_t ultotal, curl_off_t ulnow);

static inline CURLcode ccurl_setopt_xferinfo(CURL *h, CURLoption opt, ccurl_xferinfo_cb cb) { return curl_easy_setopt(h, opt, cb); }
static inline CURLcode ccurl_setopt_long(CURL *h, CURLoption opt, long value) { return curl_easy_setopt(h, opt, value); }
static inline CURLcode ccurl_setopt_off(CURL *h, CURLoption opt, curl_off_t value) { return curl_easy_setopt(h, opt, value); }
static inline CURLcode ccurl_setopt_string(CURL *h, CURLoption opt, const char *value) { return curl_easy_setopt(h, opt, value); }
static inline CURLcode ccurl_setopt_ptr(CURL *h, CURLoption opt, void *value) { return curl_easy_setopt(h, opt, value); }
static inline CURLcode ccurl_setopt_datacb(CURL *h, CURLoption opt, ccurl_data_cb cb) { return curl_easy_setopt(h, opt, cb); }
static inline CURLcode ccurl_getinfo_long(CURL *h, CURLINFO info, long *out) { return curl_easy_getinfo(h, info, out); }
static inline CURLcode ccurl_getinfo_socket(CURL *h, CURLINFO info, curl_socket_t *out) { return curl_easy_getinfo(h, info, out); }
static inline CURLcode ccurl_getinfo_string(CURL *h, CURLINFO info, char **out) { return curl_easy_getinfo(h, info, out); }

#endif
