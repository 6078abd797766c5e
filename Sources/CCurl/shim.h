#ifndef TICKETGATE_CCURL_SHIM_H
#define TICKETGATE_CCURL_SHIM_H

#include <curl/curl.h>
#include <stddef.h>

/* Typed wrappers: Swift cannot call the variadic curl_easy_setopt / curl_easy_getinfo. */

static inline CURLcode tg_setopt_long(CURL *handle, CURLoption option, long value) {
    return curl_easy_setopt(handle, option, value);
}

static inline CURLcode tg_setopt_string(CURL *handle, CURLoption option, const char *value) {
    return curl_easy_setopt(handle, option, value);
}

static inline CURLcode tg_setopt_pointer(CURL *handle, CURLoption option, void *value) {
    return curl_easy_setopt(handle, option, value);
}

static inline CURLcode tg_setopt_slist(CURL *handle, CURLoption option, struct curl_slist *value) {
    return curl_easy_setopt(handle, option, value);
}

typedef size_t (*tg_data_callback)(char *buffer, size_t size, size_t count, void *userdata);
typedef int (*tg_xferinfo_callback)(void *userdata, curl_off_t dltotal, curl_off_t dlnow, curl_off_t ultotal,
                                    curl_off_t ulnow);

static inline CURLcode tg_setopt_data_callback(CURL *handle, CURLoption option, tg_data_callback callback) {
    return curl_easy_setopt(handle, option, callback);
}

static inline CURLcode tg_setopt_xferinfo(CURL *handle, tg_xferinfo_callback callback) {
    return curl_easy_setopt(handle, CURLOPT_XFERINFOFUNCTION, callback);
}

static inline CURLcode tg_getinfo_long(CURL *handle, CURLINFO info, long *value) {
    return curl_easy_getinfo(handle, info, value);
}

static inline CURLcode tg_getinfo_socket(CURL *handle, curl_socket_t *value) {
    return curl_easy_getinfo(handle, CURLINFO_ACTIVESOCKET, value);
}

/* libcurl 7.88 spells this option CURLOPT_MAIL_RCPT_ALLLOWFAILS (three Ls); later releases renamed it. Both are 290. */
static inline CURLcode tg_setopt_rcpt_allowfails(CURL *handle, long value) {
    return curl_easy_setopt(handle, (CURLoption)(CURLOPTTYPE_LONG + 290), value);
}

#endif
