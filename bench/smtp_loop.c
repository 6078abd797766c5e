/*
 * The baseline for `scripts/bench smtp`: sends prebuilt messages over ONE reused libcurl easy handle, the
 * least a libcurl-based sender can do. Same options as Ticketgate's SMTPSender where they affect the wire
 * (NOSIGNAL, MAIL_FROM, MAIL_RCPT, RCPT_ALLLOWFAILS, UPLOAD over a READFUNCTION), nothing else.
 *
 *   smtp_loop MANIFEST URL
 *
 * MANIFEST has one line per message: "<file>\t<mail-from>\t<rcpt>" (mail-from may be empty for <>).
 * Prints "c: <n> messages, cpu <seconds> s, in <seconds> s" (CPU = user + system) on success; exits 1 on any failed message.
 */
#include <curl/curl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/resource.h>
#include <time.h>

struct message {
    char *bytes;
    size_t size;
    char from[512];
    char rcpt[512];
};

struct cursor {
    const struct message *message;
    size_t offset;
};

static size_t read_body(char *buffer, size_t size, size_t count, void *userdata) {
    struct cursor *cursor = userdata;
    size_t room = size * count;
    size_t left = cursor->message->size - cursor->offset;
    size_t n = left < room ? left : room;
    memcpy(buffer, cursor->message->bytes + cursor->offset, n);
    cursor->offset += n;
    return n;
}

static char *slurp(const char *path, size_t *size) {
    FILE *file = fopen(path, "rb");
    if (!file) return NULL;
    fseek(file, 0, SEEK_END);
    long length = ftell(file);
    fseek(file, 0, SEEK_SET);
    char *bytes = malloc((size_t)length);
    if (bytes && fread(bytes, 1, (size_t)length, file) != (size_t)length) {
        free(bytes);
        bytes = NULL;
    }
    fclose(file);
    *size = (size_t)length;
    return bytes;
}

int main(int argc, char **argv) {
    if (argc != 3) {
        fprintf(stderr, "usage: %s MANIFEST URL\n", argv[0]);
        return 2;
    }
    FILE *manifest = fopen(argv[1], "r");
    if (!manifest) {
        perror(argv[1]);
        return 2;
    }
    size_t capacity = 1024, count = 0;
    struct message *messages = calloc(capacity, sizeof *messages);
    char line[2048];
    while (fgets(line, sizeof line, manifest)) {
        line[strcspn(line, "\r\n")] = 0;
        char *file = strtok(line, "\t");
        char *from = strtok(NULL, "\t");
        char *rcpt = strtok(NULL, "\t");
        if (!file || !from || !rcpt) continue;
        if (count == capacity) messages = realloc(messages, (capacity *= 2) * sizeof *messages);
        struct message *message = &messages[count];
        message->bytes = slurp(file, &message->size);
        if (!message->bytes) {
            perror(file);
            return 2;
        }
        snprintf(message->from, sizeof message->from, "<%s>", strcmp(from, "-") == 0 ? "" : from);
        snprintf(message->rcpt, sizeof message->rcpt, "<%s>", rcpt);
        count++;
    }
    fclose(manifest);

    curl_global_init(CURL_GLOBAL_DEFAULT);
    CURL *curl = curl_easy_init();
    curl_easy_setopt(curl, CURLOPT_URL, argv[2]);
    curl_easy_setopt(curl, CURLOPT_NOSIGNAL, 1L);
    curl_easy_setopt(curl, CURLOPT_UPLOAD, 1L);
    curl_easy_setopt(curl, CURLOPT_READFUNCTION, read_body);
    curl_easy_setopt(curl, CURLOPT_MAIL_RCPT_ALLLOWFAILS, 1L);

    struct rusage usage_start, usage_end;
    getrusage(RUSAGE_SELF, &usage_start);
    struct timespec start, end;
    clock_gettime(CLOCK_MONOTONIC, &start);
    int failures = 0;
    for (size_t i = 0; i < count; i++) {
        struct cursor cursor = {&messages[i], 0};
        struct curl_slist *rcpt = curl_slist_append(NULL, messages[i].rcpt);
        curl_easy_setopt(curl, CURLOPT_MAIL_FROM, messages[i].from);
        curl_easy_setopt(curl, CURLOPT_MAIL_RCPT, rcpt);
        curl_easy_setopt(curl, CURLOPT_READDATA, &cursor);
        curl_easy_setopt(curl, CURLOPT_INFILESIZE, (long)messages[i].size);
        CURLcode code = curl_easy_perform(curl);
        curl_slist_free_all(rcpt);
        if (code != CURLE_OK) {
            fprintf(stderr, "message %zu: %s\n", i, curl_easy_strerror(code));
            failures++;
        }
    }
    clock_gettime(CLOCK_MONOTONIC, &end);
    getrusage(RUSAGE_SELF, &usage_end);
    double cpu = (double)(usage_end.ru_utime.tv_sec - usage_start.ru_utime.tv_sec)
        + (double)(usage_end.ru_stime.tv_sec - usage_start.ru_stime.tv_sec)
        + (double)(usage_end.ru_utime.tv_usec - usage_start.ru_utime.tv_usec) / 1e6
        + (double)(usage_end.ru_stime.tv_usec - usage_start.ru_stime.tv_usec) / 1e6;
    double seconds = (double)(end.tv_sec - start.tv_sec) + (double)(end.tv_nsec - start.tv_nsec) / 1e9;
    curl_easy_cleanup(curl);
    curl_global_cleanup();
    printf("c: %zu messages, cpu %.6f s, in %.6f s\n", count, cpu, seconds);
    return failures ? 1 : 0;
}
