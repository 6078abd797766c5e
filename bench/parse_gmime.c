/*
 * GMime 3 side of `scripts/bench parse`: the same "ticket extraction" workload as
 * Sources/TicketgateBench/ParseBenchmark.swift, over the same preloaded messages.
 *
 * usage: parse_gmime LISTFILE SECONDS
 *   LISTFILE holds one message path per line (written by the Swift benchmark).
 * Per message and round: parse from a memory stream, decode subject, from, to, date, message-id and
 * references, walk every part (descending into attached messages) and decode every text part to UTF-8.
 * Prints one line: "gmime <messages> <bytes> <rounds> <seconds> <checksum>".
 */
#include <gmime/gmime.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

typedef struct {
    unsigned char *data;
    size_t len;
} Msg;

static double now(void) {
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return ts.tv_sec + ts.tv_nsec / 1e9;
}

static size_t sink;

static void addresses(InternetAddressList *list) {
    if (!list) return;
    int n = internet_address_list_length(list);
    for (int i = 0; i < n; i++) {
        InternetAddress *a = internet_address_list_get_address(list, i);
        const char *name = internet_address_get_name(a);
        if (name) sink += strlen(name);
        if (INTERNET_ADDRESS_IS_MAILBOX(a)) {
            const char *addr = internet_address_mailbox_get_addr(INTERNET_ADDRESS_MAILBOX(a));
            if (addr) sink += strlen(addr);
        } else if (INTERNET_ADDRESS_IS_GROUP(a)) {
            addresses(internet_address_group_get_members(INTERNET_ADDRESS_GROUP(a)));
        }
    }
}

static void walk(GMimeObject *part, int depth) {
    if (!part || depth > 64) return;
    if (GMIME_IS_MULTIPART(part)) {
        GMimeMultipart *mp = GMIME_MULTIPART(part);
        int n = g_mime_multipart_get_count(mp);
        for (int i = 0; i < n; i++) walk(g_mime_multipart_get_part(mp, i), depth + 1);
    } else if (GMIME_IS_MESSAGE_PART(part)) {
        GMimeMessage *inner = g_mime_message_part_get_message(GMIME_MESSAGE_PART(part));
        if (inner) walk(g_mime_message_get_mime_part(inner), depth + 1);
    } else if (GMIME_IS_TEXT_PART(part)) {
        char *text = g_mime_text_part_get_text(GMIME_TEXT_PART(part));
        if (text) {
            sink += strlen(text);
            g_free(text);
        }
    } else if (GMIME_IS_PART(part)) {
        const char *filename = g_mime_part_get_filename(GMIME_PART(part));
        if (filename) sink += strlen(filename);
    }
}

static void extract(Msg *m) {
    GByteArray *array = g_byte_array_new_take(m->data, m->len);
    GMimeStream *stream = g_mime_stream_mem_new_with_byte_array(array);
    g_mime_stream_mem_set_owner(GMIME_STREAM_MEM(stream), FALSE);
    GMimeParser *parser = g_mime_parser_new_with_stream(stream);
    GMimeMessage *msg = g_mime_parser_construct_message(parser, NULL);
    if (msg) {
        const char *subject = g_mime_message_get_subject(msg);
        if (subject) sink += strlen(subject);
        addresses(g_mime_message_get_from(msg));
        addresses(g_mime_message_get_addresses(msg, GMIME_ADDRESS_TYPE_TO));
        GDateTime *date = g_mime_message_get_date(msg);
        if (date) sink += g_date_time_get_year(date);
        const char *id = g_mime_message_get_message_id(msg);
        if (id) sink += strlen(id);
        const char *refs = g_mime_object_get_header(GMIME_OBJECT(msg), "References");
        if (refs) {
            GMimeReferences *r = g_mime_references_parse(NULL, refs);
            if (r) {
                sink += g_mime_references_length(r);
                g_mime_references_free(r);
            }
        }
        walk(g_mime_message_get_mime_part(msg), 0);
        g_object_unref(msg);
    }
    g_object_unref(parser);
    g_object_unref(stream);
    /* the stream did not own the array: take the buffer back without freeing it */
    g_byte_array_steal(array, NULL);
    g_byte_array_unref(array);
}

int main(int argc, char **argv) {
    if (argc < 3) {
        fprintf(stderr, "usage: %s LISTFILE SECONDS\n", argv[0]);
        return 64;
    }
    double seconds = atof(argv[2]);
    FILE *list = fopen(argv[1], "r");
    if (!list) {
        perror(argv[1]);
        return 66;
    }
    size_t count = 0, cap = 4096, bytes = 0;
    Msg *msgs = calloc(cap, sizeof(Msg));
    char path[8192];
    while (fgets(path, sizeof path, list)) {
        path[strcspn(path, "\n")] = 0;
        if (!*path) continue;
        gchar *data;
        gsize len;
        if (!g_file_get_contents(path, &data, &len, NULL)) {
            fprintf(stderr, "cannot read %s\n", path);
            return 66;
        }
        if (count == cap) msgs = realloc(msgs, (cap *= 2) * sizeof(Msg));
        msgs[count].data = (unsigned char *)data;
        msgs[count].len = len;
        bytes += len;
        count++;
    }
    fclose(list);
    g_mime_init();
    /* one warm-up round, then as many full rounds as fit in the time */
    for (size_t i = 0; i < count; i++) extract(&msgs[i]);
    size_t rounds = 0;
    double start = now(), elapsed = 0;
    do {
        for (size_t i = 0; i < count; i++) extract(&msgs[i]);
        rounds++;
        elapsed = now() - start;
    } while (elapsed < seconds);
    printf("gmime %zu %zu %zu %.6f %zu\n", count, bytes, rounds, elapsed, sink);
    g_mime_shutdown();
    return 0;
}
