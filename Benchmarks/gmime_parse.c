/*
 * Native peer for `mailtriage-bench parse`: GMime 3 on the same files, best of N passes.
 *
 * Each file is read into memory and parsed with GMime (GMIME_FORMAT_MESSAGE, from a memory stream). The
 * envelope is touched (Subject, From, To, Date), the body text is chosen the way mailtriage chooses it
 * (text/plain that is not an attachment preferred, multipart/alternative resolved, related/report/signed by
 * their first part, HTML when there is no plain text, the first embedded message when all else is blank),
 * transfer- and charset-decoded to UTF-8 with g_mime_text_part_get_text (GMime's charset filter; text
 * without a charset that is not valid UTF-8 is read as windows-1252), HTML turned into text crudely (tags
 * dropped, script/style skipped, a few entities). Every part is then walked and the decoded size of each
 * attachment summed (written through GMime's decoders into a null stream; an embedded message is counted
 * but not sized). No quote stripping, no report classification, and no limits: mailtriage stops reading a
 * tree at 1,000 parts and 24 levels, GMime reads all of it.
 *
 * Besides the best pass it prints the slowest file, as `mailtriage-bench parse` does: the lowest MB/s of the
 * files of at least --slowest-min-bytes (10,000; a smaller file's time is per-message overhead, which msg/s
 * shows), each file's time being its best over the passes (parse to free, the file read left out).
 *
 * Build: cc -O2 -o gmime_parse gmime_parse.c $(pkg-config --cflags --libs gmime-3.0)
 * Usage: gmime_parse [--rounds N] [--slowest-min-bytes N] DIR_OR_FILE...
 */
#define _GNU_SOURCE
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#include <gmime/gmime.h>

/* ---- files ---- */

static char **paths;
static size_t npaths, cappaths;

static void add_path(const char *p) {
    if (npaths == cappaths) {
        cappaths = cappaths ? cappaths * 2 : 1024;
        paths = realloc(paths, cappaths * sizeof *paths);
        if (!paths) { perror("realloc"); exit(1); }
    }
    paths[npaths++] = strdup(p);
}

static void collect(const char *p) {
    struct stat st;
    if (stat(p, &st) != 0) return;
    if (S_ISREG(st.st_mode)) { add_path(p); return; }
    if (!S_ISDIR(st.st_mode)) return;
    DIR *d = opendir(p);
    if (!d) return;
    struct dirent *e;
    while ((e = readdir(d)) != NULL) {
        if (strcmp(e->d_name, ".") == 0 || strcmp(e->d_name, "..") == 0) continue;
        char *full = g_build_filename(p, e->d_name, NULL);
        collect(full);
        g_free(full);
    }
    closedir(d);
}

static int cmp_str(const void *a, const void *b) {
    return strcmp(*(char *const *)a, *(char *const *)b);
}

/* Reads a whole file into a new GByteArray (NULL when it cannot be read). */
static GByteArray *read_file(const char *path) {
    int fd = open(path, O_RDONLY);
    if (fd < 0) return NULL;
    struct stat st;
    if (fstat(fd, &st) != 0) { close(fd); return NULL; }
    GByteArray *ba = g_byte_array_sized_new((guint)st.st_size + 1);
    g_byte_array_set_size(ba, (guint)st.st_size);
    size_t got = 0;
    while (got < (size_t)st.st_size) {
        ssize_t n = read(fd, ba->data + got, (size_t)st.st_size - got);
        if (n < 0 && errno == EINTR) continue;
        if (n <= 0) break;
        got += (size_t)n;
    }
    close(fd);
    g_byte_array_set_size(ba, (guint)got);
    return ba;
}

static double now(void) {
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return ts.tv_sec + ts.tv_nsec / 1e9;
}

/* ---- body selection, as mailtriage does it ---- */

typedef struct {
    GMimeObject *part;
    gboolean html;
} Choice;

static gboolean type_is(GMimeObject *o, const char *type, const char *subtype) {
    GMimeContentType *ct = g_mime_object_get_content_type(o);
    return ct && g_mime_content_type_is_type(ct, type, subtype ? subtype : "*");
}

static gboolean is_attachment(GMimeObject *o) {
    const char *disp = g_mime_object_get_disposition(o);
    if (disp && g_ascii_strcasecmp(disp, "attachment") == 0) return TRUE;
    if (GMIME_IS_PART(o) && g_mime_part_get_filename((GMimePart *)o) != NULL) {
        gboolean inline_text = type_is(o, "text", NULL) && disp && g_ascii_strcasecmp(disp, "inline") == 0;
        return !inline_text;
    }
    return FALSE;
}

static gboolean all_plain(GArray *c) {
    for (guint i = 0; i < c->len; i++)
        if (g_array_index(c, Choice, i).html) return FALSE;
    return TRUE;
}

static void select_parts(GMimeObject *o, gboolean prefer_html, GArray *out) {
    if (GMIME_IS_MESSAGE_PART(o)) return;
    if (GMIME_IS_MULTIPART(o)) {
        GMimeMultipart *mp = (GMimeMultipart *)o;
        int n = g_mime_multipart_get_count(mp);
        if (GMIME_IS_MULTIPART_ENCRYPTED(o)) return;
        if (n == 0) {  /* a multipart whose boundary never appears: read as text */
            Choice c = { o, FALSE };
            g_array_append_val(out, c);
            return;
        }
        if (type_is(o, "multipart", "alternative")) {
            GArray *plain = NULL, *html = NULL;
            for (int i = 0; i < n; i++) {
                GMimeObject *child = g_mime_multipart_get_part(mp, i);
                if (is_attachment(child)) continue;
                GArray *c = g_array_new(FALSE, FALSE, sizeof(Choice));
                select_parts(child, prefer_html, c);
                if (c->len == 0) { g_array_free(c, TRUE); continue; }
                GArray **slot = all_plain(c) ? &plain : &html;
                if (*slot) g_array_free(*slot, TRUE);
                *slot = c;
            }
            GArray *pick = prefer_html ? (html ? html : plain) : (plain ? plain : html);
            if (pick) g_array_append_vals(out, pick->data, pick->len);
            if (plain) g_array_free(plain, TRUE);
            if (html) g_array_free(html, TRUE);
            return;
        }
        if (type_is(o, "multipart", "related") || type_is(o, "multipart", "report") || type_is(o, "multipart", "signed")) {
            select_parts(g_mime_multipart_get_part(mp, 0), prefer_html, out);
            return;
        }
        for (int i = 0; i < n; i++) {
            GMimeObject *child = g_mime_multipart_get_part(mp, i);
            if (is_attachment(child) || type_is(child, "message", NULL)) continue;
            select_parts(child, prefer_html, out);
        }
        return;
    }
    if (!GMIME_IS_PART(o) || is_attachment(o) || !type_is(o, "text", NULL)) return;
    const char *sub = g_mime_content_type_get_media_subtype(g_mime_object_get_content_type(o));
    if (!sub) sub = "plain";
    if (g_ascii_strcasecmp(sub, "html") == 0 || g_ascii_strcasecmp(sub, "xhtml") == 0) {
        Choice c = { o, TRUE };
        g_array_append_val(out, c);
        return;
    }
    if (g_ascii_strcasecmp(sub, "calendar") == 0 || g_str_has_suffix(sub, "vcard") || g_str_has_suffix(sub, "directory"))
        return;
    Choice c = { o, FALSE };
    g_array_append_val(out, c);
}

static GMimeObject *first_embedded(GMimeObject *o) {
    if (GMIME_IS_MESSAGE_PART(o)) {
        GMimeMessage *m = g_mime_message_part_get_message((GMimeMessagePart *)o);
        return m ? g_mime_message_get_mime_part(m) : NULL;
    }
    if (GMIME_IS_MULTIPART(o)) {
        int n = g_mime_multipart_get_count((GMimeMultipart *)o);
        for (int i = 0; i < n; i++) {
            GMimeObject *e = first_embedded(g_mime_multipart_get_part((GMimeMultipart *)o, i));
            if (e) return e;
        }
    }
    return NULL;
}

/* ---- decoding ---- */

/* Transfer- and charset-decoded text of a leaf part, as UTF-8 (g_free it). */
static char *part_text(GMimeObject *o) {
    char *text = NULL;
    if (GMIME_IS_MULTIPART(o)) {  /* no boundary line found: GMime keeps the body as the prologue */
        const char *prologue = g_mime_multipart_get_prologue((GMimeMultipart *)o);
        text = g_strdup(prologue ? prologue : "");
    } else if (GMIME_IS_TEXT_PART(o)) {
        text = g_mime_text_part_get_text((GMimeTextPart *)o);
    } else if (GMIME_IS_PART(o)) {
        GMimeDataWrapper *w = g_mime_part_get_content((GMimePart *)o);
        if (w) {
            GMimeStream *mem = g_mime_stream_mem_new();
            g_mime_data_wrapper_write_to_stream(w, mem);
            g_mime_stream_write(mem, "", 1);
            GByteArray *ba = g_mime_stream_mem_get_byte_array((GMimeStreamMem *)mem);
            g_mime_stream_mem_set_owner((GMimeStreamMem *)mem, FALSE);
            g_object_unref(mem);
            text = (char *)g_byte_array_free(ba, FALSE);
        }
    }
    if (!text) return g_strdup("");
    if (!g_utf8_validate(text, -1, NULL)) {
        /* No charset (or one iconv does not know): windows-1252, as mailtriage falls back to. */
        char *conv = g_convert_with_fallback(text, -1, "UTF-8", "WINDOWS-1252", "?", NULL, NULL, NULL);
        if (!conv) conv = g_convert(text, -1, "UTF-8", "ISO-8859-1", NULL, NULL, NULL);
        if (conv) { g_free(text); text = conv; }
    }
    return text;
}

static int lower_prefix(const char *s, const char *p) {
    return g_ascii_strncasecmp(s, p, strlen(p)) == 0;
}

/* Crude HTML to text: tags dropped (block tags become line breaks), script/style/head skipped, a few
 * entities decoded. */
static char *html_to_text(const char *h) {
    GString *out = g_string_sized_new(strlen(h) / 2 + 16);
    const char *p = h;
    while (*p) {
        if (*p == '<') {
            const char *skip_to = NULL;
            if (lower_prefix(p, "<script")) skip_to = "</script";
            else if (lower_prefix(p, "<style")) skip_to = "</style";
            else if (lower_prefix(p, "<head")) skip_to = "</head";
            else if (lower_prefix(p, "<!--")) {
                const char *e = strstr(p + 4, "-->");
                p = e ? e + 3 : p + strlen(p);
                continue;
            }
            if (skip_to) {
                const char *e = strcasestr(p + 1, skip_to);
                if (e) p = e;
            }
            gboolean block = lower_prefix(p, "<br") || lower_prefix(p, "<p") || lower_prefix(p, "</p") ||
                             lower_prefix(p, "<div") || lower_prefix(p, "</div") || lower_prefix(p, "<tr") ||
                             lower_prefix(p, "<li") || lower_prefix(p, "</h");
            const char *e = strchr(p, '>');
            p = e ? e + 1 : p + strlen(p);
            if (block) g_string_append_c(out, '\n');
            continue;
        }
        if (*p == '&') {
            static const struct { const char *name; const char *text; } ents[] = {
                { "&amp;", "&" }, { "&lt;", "<" }, { "&gt;", ">" }, { "&quot;", "\"" }, { "&#39;", "'" },
                { "&apos;", "'" }, { "&nbsp;", "\xc2\xa0" },
            };
            gboolean done = FALSE;
            for (size_t i = 0; i < G_N_ELEMENTS(ents); i++) {
                size_t n = strlen(ents[i].name);
                if (g_ascii_strncasecmp(p, ents[i].name, n) == 0) {
                    g_string_append(out, ents[i].text);
                    p += n;
                    done = TRUE;
                    break;
                }
            }
            if (!done && p[1] == '#') {
                char *end;
                gboolean hex = p[2] == 'x' || p[2] == 'X';
                unsigned long cp = strtoul(p + (hex ? 3 : 2), &end, hex ? 16 : 10);
                if (end != p + (hex ? 3 : 2) && cp > 0 && cp < 0x110000 && g_unichar_validate((gunichar)cp)) {
                    g_string_append_unichar(out, (gunichar)cp);
                    p = *end == ';' ? end + 1 : end;
                    done = TRUE;
                }
            }
            if (!done) g_string_append_c(out, *p++);
            continue;
        }
        g_string_append_c(out, *p++);
    }
    return g_string_free(out, FALSE);
}

static gboolean blank(const char *s) {
    for (; *s; s++)
        if (*s != ' ' && *s != '\t' && *s != '\n' && *s != '\r') return FALSE;
    return TRUE;
}

/* Decodes the chosen parts; returns the total UTF-8 length, *all_blank tells whether all were blank. */
static size_t decode_choices(GArray *c, gboolean *all_blank) {
    size_t len = 0;
    *all_blank = TRUE;
    for (guint i = 0; i < c->len; i++) {
        Choice ch = g_array_index(c, Choice, i);
        char *t = part_text(ch.part);
        if (ch.html) {
            char *plain = html_to_text(t);
            g_free(t);
            t = plain;
        }
        if (!blank(t)) *all_blank = FALSE;
        len += strlen(t);
        g_free(t);
    }
    return len;
}

static gboolean chosen(GArray *c, GMimeObject *o) {
    for (guint i = 0; i < c->len; i++)
        if (g_array_index(c, Choice, i).part == o) return TRUE;
    return FALSE;
}

/* ---- attachments ---- */

static void attachments(GMimeObject *o, GArray *chosen_parts, size_t *count, size_t *bytes) {
    if (GMIME_IS_MESSAGE_PART(o)) {
        /* An embedded message is one attachment, as in mailtriage, but its size is not measured: GMime keeps no
         * raw extent for it and serialising it again (the only way) cost about 7% of the corpus time, which
         * mailtriage, taking the length of its byte range, does not pay. */
        (*count)++;
        return;
    }
    if (GMIME_IS_MULTIPART(o)) {
        int n = g_mime_multipart_get_count((GMimeMultipart *)o);
        for (int i = 0; i < n; i++) attachments(g_mime_multipart_get_part((GMimeMultipart *)o, i), chosen_parts, count, bytes);
        return;
    }
    if (!GMIME_IS_PART(o) || chosen(chosen_parts, o)) return;
    gboolean body_alternative = type_is(o, "text", "plain") || type_is(o, "text", "html");
    if (!is_attachment(o) && body_alternative) return;
    GMimeDataWrapper *w = g_mime_part_get_content((GMimePart *)o);
    if (w) {
        GMimeStream *null = g_mime_stream_null_new();
        g_mime_data_wrapper_write_to_stream(w, null);  /* decodes base64 / quoted-printable / uuencode */
        *bytes += ((GMimeStreamNull *)null)->written;
        g_object_unref(null);
    }
    (*count)++;
}

/* ---- one message ---- */

typedef struct {
    size_t text;
    size_t attachments;
    size_t attachment_bytes;
    size_t header_chars;
    int repaired;
    int headerless;
    int failed;
} Totals;

static GMimeMessage *construct(GByteArray *data) {
    GMimeStream *stream = g_mime_stream_mem_new_with_byte_array(data);
    g_mime_stream_mem_set_owner((GMimeStreamMem *)stream, FALSE);  /* the caller frees data after the message */
    GMimeParser *parser = g_mime_parser_new_with_stream(stream);
    g_mime_parser_set_format(parser, GMIME_FORMAT_MESSAGE);
    GMimeMessage *msg = g_mime_parser_construct_message(parser, NULL);
    g_object_unref(parser);
    g_object_unref(stream);
    return msg;
}

/* Parses data (and frees it). GMime refuses a message that does not start with a header field; mailtriage
 * reads it anyway, so the same leniency is given here: a leading byte-order mark, mbox From_ line and lines
 * that start with white space are skipped, and a file that still has no header is read as a header-less
 * message (an empty header section, the whole file its text/plain body). */
static void parse_one(GByteArray *data, Totals *t) {
    const guint8 *p = data->data, *e = data->data + data->len;
    if (e - p >= 3 && memcmp(p, "\xef\xbb\xbf", 3) == 0) p += 3;
    if (e - p >= 5 && memcmp(p, "From ", 5) == 0) {
        const guint8 *nl = memchr(p, '\n', (size_t)(e - p));
        p = nl ? nl + 1 : e;
    }
    while (p < e && (*p == ' ' || *p == '\t')) {
        const guint8 *nl = memchr(p, '\n', (size_t)(e - p));
        p = nl ? nl + 1 : e;
    }
    if (p > data->data) {
        g_byte_array_remove_range(data, 0, (guint)(p - data->data));
        t->repaired++;
    }
    GMimeMessage *msg = construct(data);
    if (!msg) {
        g_byte_array_prepend(data, (const guint8 *)"\n", 1);
        msg = construct(data);
        t->headerless++;
    }
    if (!msg) { t->failed++; g_byte_array_free(data, TRUE); return; }

    const char *subject = g_mime_message_get_subject(msg);
    if (subject) t->header_chars += strlen(subject);
    InternetAddressList *from = g_mime_message_get_from(msg);
    InternetAddressList *to = g_mime_message_get_to(msg);
    t->header_chars += (size_t)internet_address_list_length(from) + (size_t)internet_address_list_length(to);
    GDateTime *date = g_mime_message_get_date(msg);
    if (date) t->header_chars += 1;

    GMimeObject *root = g_mime_message_get_mime_part(msg);
    GArray *c = g_array_new(FALSE, FALSE, sizeof(Choice));
    if (root) {
        gboolean all_blank;
        select_parts(root, FALSE, c);
        size_t len = decode_choices(c, &all_blank);
        if (all_blank) {
            GArray *h = g_array_new(FALSE, FALSE, sizeof(Choice));
            select_parts(root, TRUE, h);
            gboolean same = h->len == c->len;
            for (guint i = 0; same && i < h->len; i++)
                same = g_array_index(h, Choice, i).part == g_array_index(c, Choice, i).part;
            if (!same) {
                g_array_free(c, TRUE);
                c = h;
                len = decode_choices(c, &all_blank);
            } else {
                g_array_free(h, TRUE);
            }
        }
        GMimeObject *emb;
        if (all_blank && (emb = first_embedded(root)) != NULL) {
            g_array_set_size(c, 0);
            select_parts(emb, FALSE, c);
            len = decode_choices(c, &all_blank);
        }
        t->text += len;
        attachments(root, c, &t->attachments, &t->attachment_bytes);
    }
    g_array_free(c, TRUE);
    g_object_unref(msg);
    g_byte_array_free(data, TRUE);
}

int main(int argc, char **argv) {
    int rounds = 5;
    size_t min_bytes = 10000;
    int a = 1;
    for (;;) {
        if (a + 1 < argc && strcmp(argv[a], "--rounds") == 0) rounds = atoi(argv[a + 1]);
        else if (a + 1 < argc && strcmp(argv[a], "--slowest-min-bytes") == 0) min_bytes = strtoul(argv[a + 1], NULL, 10);
        else break;
        a += 2;
    }
    if (a >= argc || rounds < 1) {
        fprintf(stderr, "usage: %s [--rounds N] [--slowest-min-bytes N] DIR_OR_FILE...\n", argv[0]);
        return 2;
    }
    for (; a < argc; a++) collect(argv[a]);
    if (npaths == 0) { fprintf(stderr, "no files\n"); return 1; }
    qsort(paths, npaths, sizeof *paths, cmp_str);

    g_mime_init();
    double *file_best = malloc(npaths * sizeof *file_best);
    size_t *file_size = calloc(npaths, sizeof *file_size);
    for (size_t i = 0; i < npaths; i++) file_best[i] = 1e30;
    double best = 1e30;
    size_t bytes = 0;
    Totals t = { 0 };
    for (int r = 0; r < rounds; r++) {
        bytes = 0;
        memset(&t, 0, sizeof t);
        double start = now();
        for (size_t i = 0; i < npaths; i++) {
            GByteArray *data = read_file(paths[i]);
            if (!data) continue;
            bytes += data->len;
            file_size[i] = data->len;
            double f0 = now();
            parse_one(data, &t);
            double f = now() - f0;
            if (f < file_best[i]) file_best[i] = f;
        }
        double secs = now() - start;
        if (secs < best) best = secs;
    }
    size_t slow = SIZE_MAX;
    double slow_rate = 1e30;
    for (size_t i = 0; i < npaths; i++) {
        if (file_size[i] < min_bytes || file_size[i] == 0 || file_best[i] >= 1e30) continue;
        double rate = file_size[i] / 1e6 / file_best[i];
        if (rate < slow_rate) { slow_rate = rate; slow = i; }
    }
    printf("gmime %u.%u.%u: %zu files, %.1f MB, best of %d: %.3f s, %.0f msg/s, %.1f MB/s (text %zu bytes, %zu attachments of %zu bytes, %d repaired, %d without header, %d not parsed)\n",
           gmime_major_version, gmime_minor_version, gmime_micro_version, npaths, bytes / 1e6, rounds, best, npaths / best, bytes / 1e6 / best, t.text,
           t.attachments, t.attachment_bytes, t.repaired, t.headerless, t.failed);
    if (slow != SIZE_MAX)
        printf("  slowest file of %zu bytes or more: %s, %zu bytes, %.1f MB/s (%.3f ms, best of %d)\n", min_bytes, paths[slow],
               file_size[slow], slow_rate, file_best[slow] * 1e3, rounds);
    free(file_best);
    free(file_size);
    for (size_t i = 0; i < npaths; i++) free(paths[i]);
    free(paths);
    g_mime_shutdown();
    return 0;
}
