/*
 * misuse.c: every way firmware can get the C API wrong, and the status each must return.
 * Table-driven: each row calls one function with one bad argument; nothing may crash.
 *
 *   misuse MODELS_DIR FRAME.nv12 WIDTH HEIGHT Y_STRIDE UV_STRIDE SCRATCH_DIR
 *
 * The frame must show one face; the test puts two copies of it side by side for a frame with
 * two faces. Exit status 0 if every row returns its expected status.
 */
#include <math.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "faceguard.h"

static fg_engine *engine;
static fg_vault *vault;
static fg_image frame;   /* a good NV12 frame */
static fg_image pair;    /* two copies of it side by side: two faces */
static fg_face face;     /* its face */
static uint64_t consent; /* an active consent for "door-access" */
static fg_consent_handle handle; /* its handle, from the grant */
static fg_consent_handle h; /* handles of the rows' own grants */
static uint8_t key[32];
static char detector[1024], embedder[1024], vault_dir[1024], scratch[1024], copy_dir[1024];
static const char *NOTICE = "Your face template opens this door until you ask us to delete it.";

/* Every message the library logs comes here: counted by level, the last few kept, and each
 * checked for subject ids (every subject this test names begins with "badge-"). */
#define LOG_KEPT 8
struct log_seen {
    size_t messages, leaks, bad_levels, by_level[FG_LOG_DEBUG + 1];
    char kept[LOG_KEPT][1024];
    int next;
    char leak[1024];
};
static struct log_seen log_seen;
static void on_log(int32_t level, const char *message, void *user_data) {
    struct log_seen *seen = user_data;
    seen->messages++;
    if (level < FG_LOG_ERROR || level > FG_LOG_DEBUG)
        seen->bad_levels++;
    else
        seen->by_level[level]++;
    snprintf(seen->kept[seen->next], sizeof seen->kept[0], "%d %s", (int)level, message);
    seen->next = (seen->next + 1) % LOG_KEPT;
    if (strstr(message, "badge-")) {
        seen->leaks++;
        snprintf(seen->leak, sizeof seen->leak, "%s", message);
    }
}
static void log_forget(void) {
    memset(log_seen.kept, 0, sizeof log_seen.kept);
}
/* Whether a message kept since log_forget() begins with the level and contains both texts. */
static int logged(int level, const char *a, const char *b) {
    char prefix[8];
    snprintf(prefix, sizeof prefix, "%d ", level);
    for (int i = 0; i < LOG_KEPT; i++)
        if (strncmp(log_seen.kept[i], prefix, strlen(prefix)) == 0 &&
            strstr(log_seen.kept[i], a) && strstr(log_seen.kept[i], b))
            return 1;
    return 0;
}

/* ---- one function per row ---- */
static fg_face faces[8];
static size_t count;
static fg_engine *new_engine;
static fg_vault *new_vault;
static fg_candidate candidates[4];
static fg_decision decision;
static uint64_t id, entries;
static size_t n;
static char text[1 << 16];

static fg_status engine_null_detector(void) { return fg_engine_new(NULL, embedder, &new_engine); }
static fg_status engine_null_embedder(void) { return fg_engine_new(detector, NULL, &new_engine); }
static fg_status engine_null_out(void) { return fg_engine_new(detector, embedder, NULL); }
static fg_status engine_missing_file(void) {
    return fg_engine_new("/nonexistent/yunet.onnx", embedder, &new_engine);
}
static fg_status engine_swapped_models(void) { return fg_engine_new(embedder, detector, &new_engine); }
static fg_status engine_memory_null(void) {
    return fg_engine_new_from_memory(NULL, 10, (const uint8_t *)"x", 1, NULL, &new_engine);
}
static fg_status engine_memory_zero_length(void) {
    return fg_engine_new_from_memory((const uint8_t *)"x", 0, (const uint8_t *)"x", 1, NULL,
                                     &new_engine);
}
static fg_status engine_memory_garbage(void) {
    static const uint8_t junk[64] = {1, 2, 3};
    return fg_engine_new_from_memory(junk, sizeof junk, junk, sizeof junk, NULL, &new_engine);
}
static fg_status engine_memory_bad_spec(void) {
    static const uint8_t junk[64] = {1, 2, 3};
    return fg_engine_new_from_memory(junk, sizeof junk, junk, sizeof junk, "{not json", &new_engine);
}
static fg_status free_null(void) {
    fg_engine_free(NULL);
    fg_vault_free(NULL);
    return FG_OK;
}
static fg_status detect_ok(void) { return fg_detect(engine, &frame, faces, 8, &count); }
static fg_status detect_null_engine(void) { return fg_detect(NULL, &frame, faces, 8, &count); }
static fg_status detect_null_image(void) { return fg_detect(engine, NULL, faces, 8, &count); }
static fg_status detect_null_faces(void) { return fg_detect(engine, &frame, NULL, 8, &count); }
static fg_status detect_null_count(void) { return fg_detect(engine, &frame, faces, 8, NULL); }
static fg_status detect_zero_capacity(void) { return fg_detect(engine, &frame, faces, 0, &count); }
static fg_status detect_huge_capacity(void) { return fg_detect(engine, &frame, faces, SIZE_MAX, &count); }
static fg_status with_image(fg_image image) { return fg_detect(engine, &image, faces, 8, &count); }
static fg_status image_short_stride(void) {
    fg_image i = frame;
    i.stride[0] = i.width - 1;
    return with_image(i);
}
static fg_status image_short_uv_stride(void) {
    fg_image i = frame;
    i.stride[1] = 2;
    return with_image(i);
}
static fg_status image_short_plane(void) {
    fg_image i = frame;
    i.plane_len[0] = i.stride[0] * (i.height - 1);
    return with_image(i);
}
static fg_status image_zero_length_plane(void) {
    fg_image i = frame;
    i.plane_len[1] = 0;
    return with_image(i);
}
static fg_status image_null_plane(void) {
    fg_image i = frame;
    i.planes[1] = NULL;
    return with_image(i);
}
static fg_status image_bad_format(void) {
    fg_image i = frame;
    i.format = 99;
    return with_image(i);
}
static fg_status image_packed_as_planar(void) {
    fg_image i = frame;
    i.format = FG_PIXEL_I420; /* plane 2 is missing */
    return with_image(i);
}
static fg_status image_zero_width(void) {
    fg_image i = frame;
    i.width = 0;
    return with_image(i);
}
static fg_status image_odd_height(void) {
    fg_image i = frame;
    i.height -= 1;
    return with_image(i);
}
static fg_status image_huge(void) {
    fg_image i = frame;
    i.width = 1u << 30;
    i.height = 1u << 30;
    return with_image(i);
}
static fg_status image_huge_stride(void) {
    fg_image i = frame;
    i.stride[0] = SIZE_MAX / 2;
    return with_image(i);
}
/* A copy of the open vault (the vault itself is locked by its open handle). */
static const char *copy_of_vault(void) {
    char cmd[4096];
    snprintf(cmd, sizeof cmd, "rm -rf '%s' && cp -r '%s' '%s'", copy_dir, vault_dir, copy_dir);
    return system(cmd) == 0 ? copy_dir : "/nonexistent/copy";
}
static fg_status vault_open_copy(void) { return fg_vault_open(copy_of_vault(), key, 32, &new_vault); }
static fg_status vault_open_busy(void) { return fg_vault_open(vault_dir, key, 32, &new_vault); }
static fg_status vault_open_wrong_key(void) {
    uint8_t wrong[32] = {0};
    return fg_vault_open(copy_of_vault(), wrong, sizeof wrong, &new_vault);
}
static fg_status vault_open_short_key(void) { return fg_vault_open(copy_of_vault(), key, 31, &new_vault); }
static fg_status vault_open_null_key(void) { return fg_vault_open(copy_of_vault(), NULL, 32, &new_vault); }
static fg_status vault_open_null_dir(void) { return fg_vault_open(NULL, key, 32, &new_vault); }
static fg_status vault_open_null_out(void) { return fg_vault_open(copy_of_vault(), key, 32, NULL); }
static fg_status vault_open_missing(void) {
    return fg_vault_open("/nonexistent/vault", key, 32, &new_vault);
}
static fg_status vault_create_twice(void) { return fg_vault_create(copy_of_vault(), key, 32, &new_vault); }
static fg_status vault_open_tampered(void) {
    /* A copy of the vault with one flipped bit in its journal. */
    char cmd[4096];
    snprintf(cmd, sizeof cmd, "rm -rf '%s' && cp -r '%s' '%s'", scratch, vault_dir, scratch);
    if (system(cmd) != 0)
        return FG_ERR_INTERNAL;
    char path[2048];
    snprintf(path, sizeof path, "%s/journal", scratch);
    FILE *f = fopen(path, "r+b");
    if (!f)
        return FG_ERR_INTERNAL;
    fseek(f, -100, SEEK_END);
    int c = fgetc(f);
    fseek(f, -100, SEEK_END);
    fputc(c ^ 0x08, f);
    fclose(f);
    return fg_vault_open(scratch, key, 32, &new_vault);
}
static fg_status grant_null_vault(void) {
    return fg_vault_grant(NULL, "door-access", "badge-2", NOTICE, 3600, &id, &h);
}
static fg_status grant_null_purpose(void) {
    return fg_vault_grant(vault, NULL, "badge-2", NOTICE, 3600, &id, &h);
}
static fg_status grant_null_subject(void) {
    return fg_vault_grant(vault, "door-access", NULL, NOTICE, 3600, &id, &h);
}
static fg_status grant_null_notice(void) {
    return fg_vault_grant(vault, "door-access", "badge-2", NULL, 3600, &id, &h);
}
static fg_status grant_null_out(void) {
    return fg_vault_grant(vault, "door-access", "badge-2", NOTICE, 3600, NULL, &h);
}
static fg_status grant_null_handle(void) {
    return fg_vault_grant(vault, "door-access", "badge-2", NOTICE, 3600, &id, NULL);
}
static fg_status grant_empty_notice(void) {
    return fg_vault_grant(vault, "door-access", "badge-2", "  ", 3600, &id, &h);
}
static fg_status grant_empty_subject(void) {
    return fg_vault_grant(vault, "door-access", "", NOTICE, 3600, &id, &h);
}
static fg_status grant_empty_purpose(void) {
    return fg_vault_grant(vault, "", "badge-2", NOTICE, 3600, &id, &h);
}
static fg_status grant_zero_validity(void) {
    return fg_vault_grant(vault, "door-access", "badge-2", NOTICE, 0, &id, &h);
}
static fg_status grant_huge_validity(void) {
    return fg_vault_grant(vault, "door-access", "badge-2", NOTICE, UINT64_MAX, &id, &h);
}
static fg_status grant_not_utf8(void) {
    return fg_vault_grant(vault, "door-access", "badge-\xff", NOTICE, 3600, &id, &h);
}
static fg_status enroll_null_face(void) { return fg_vault_enroll(vault, engine, &frame, NULL, &handle); }
static fg_status enroll_null_handle(void) { return fg_vault_enroll(vault, engine, &frame, &face, NULL); }
static fg_status enroll_unknown_consent(void) {
    fg_consent_handle unknown = handle;
    unknown.bytes[0] ^= 0x55; /* another consent id, the same secret */
    return fg_vault_enroll(vault, engine, &frame, &face, &unknown);
}
/* The consent id alone (a guess: ids are small numbers) is not enough to enrol a face. */
static fg_status enroll_guessed_handle(void) {
    fg_consent_handle guess;
    memset(&guess, 0, sizeof guess);
    memcpy(guess.bytes, handle.bytes, 8); /* badge-1's consent id, secret unknown */
    return fg_vault_enroll(vault, engine, &frame, &face, &guess);
}
static fg_status enroll_revoked_consent(void) {
    uint64_t c;
    fg_consent_handle hc;
    fg_status s = fg_vault_grant(vault, "door-access", "badge-3", NOTICE, 3600, &c, &hc);
    if (s != FG_OK)
        return s;
    if ((s = fg_vault_revoke(vault, c)) != FG_OK)
        return s;
    return fg_vault_enroll(vault, engine, &frame, &face, &hc);
}
static fg_status enroll_expired_consent(void) {
    uint64_t c;
    fg_consent_handle hc;
    fg_status s = fg_vault_grant(vault, "door-access", "badge-4", NOTICE, 1, &c, &hc);
    if (s != FG_OK)
        return s;
    sleep(2);
    return fg_vault_enroll(vault, engine, &frame, &face, &hc);
}
static fg_status identify_ok(void) {
    return fg_vault_identify(vault, engine, &frame, &face, "door-access", NOTICE, candidates, 4, &n);
}
static fg_status identify_null_candidates(void) {
    return fg_vault_identify(vault, engine, &frame, &face, "door-access", NOTICE, NULL, 4, &n);
}
static fg_status identify_zero_capacity(void) {
    return fg_vault_identify(vault, engine, &frame, &face, "door-access", NOTICE, candidates, 0, &n);
}
static fg_status identify_null_notice(void) {
    return fg_vault_identify(vault, engine, &frame, &face, "door-access", NULL, candidates, 4, &n);
}
static fg_status identify_empty_purpose(void) {
    return fg_vault_identify(vault, engine, &frame, &face, "", NOTICE, candidates, 4, &n);
}
static fg_status verify_ok(void) {
    return fg_vault_verify(vault, engine, &frame, &face, "door-access", NOTICE, "badge-1", &decision);
}
static fg_status verify_wrong_purpose(void) {
    return fg_vault_verify(vault, engine, &frame, &face, "attendance", NOTICE, "badge-1", &decision);
}
static fg_status verify_unknown_subject(void) {
    return fg_vault_verify(vault, engine, &frame, &face, "door-access", NOTICE, "badge-9", &decision);
}
static fg_status verify_null_out(void) {
    return fg_vault_verify(vault, engine, &frame, &face, "door-access", NOTICE, "badge-1", NULL);
}
static fg_status revoke_unknown_subject(void) { return fg_vault_revoke_subject(vault, "badge-9", &n); }
static fg_status revoke_unknown_consent(void) { return fg_vault_revoke(vault, 424242); }
static fg_status count_null(void) { return fg_vault_subject_count(vault, NULL); }
static fg_status sweep_ok(void) { return fg_vault_sweep_expired(vault, &n); }
static fg_status audit_verify_ok(void) { return fg_vault_audit_verify(vault, &entries); }
static fg_status export_too_small(void) { return fg_vault_audit_export(vault, text, 10, &n); }
static fg_status export_ok(void) { return fg_vault_audit_export(vault, text, sizeof text, &n); }
static fg_status export_length_null(void) { return fg_vault_audit_export_length(vault, NULL); }
static fg_status rotate_short_key(void) { return fg_vault_rotate_key(vault, key, 16); }
static fg_status rotate_same_key(void) { return fg_vault_rotate_key(vault, key, 32); }

/* NULL for each remaining pointer argument. */
static fg_status enroll_null_vault(void) { return fg_vault_enroll(NULL, engine, &frame, &face, &handle); }
static fg_status enroll_null_engine(void) { return fg_vault_enroll(vault, NULL, &frame, &face, &handle); }
static fg_status enroll_null_image(void) { return fg_vault_enroll(vault, engine, NULL, &face, &handle); }
static fg_status identify_null_vault(void) {
    return fg_vault_identify(NULL, engine, &frame, &face, "door-access", NOTICE, candidates, 4, &n);
}
static fg_status identify_null_engine(void) {
    return fg_vault_identify(vault, NULL, &frame, &face, "door-access", NOTICE, candidates, 4, &n);
}
static fg_status identify_null_image(void) {
    return fg_vault_identify(vault, engine, NULL, &face, "door-access", NOTICE, candidates, 4, &n);
}
static fg_status identify_null_face(void) {
    return fg_vault_identify(vault, engine, &frame, NULL, "door-access", NOTICE, candidates, 4, &n);
}
static fg_status identify_null_purpose(void) {
    return fg_vault_identify(vault, engine, &frame, &face, NULL, NOTICE, candidates, 4, &n);
}
static fg_status identify_null_count(void) {
    return fg_vault_identify(vault, engine, &frame, &face, "door-access", NOTICE, candidates, 4, NULL);
}
static fg_status identify_huge_capacity(void) {
    return fg_vault_identify(vault, engine, &frame, &face, "door-access", NOTICE, candidates,
                             SIZE_MAX, &n);
}
static fg_status verify_null_vault(void) {
    return fg_vault_verify(NULL, engine, &frame, &face, "door-access", NOTICE, "badge-1", &decision);
}
static fg_status verify_null_engine(void) {
    return fg_vault_verify(vault, NULL, &frame, &face, "door-access", NOTICE, "badge-1", &decision);
}
static fg_status verify_null_image(void) {
    return fg_vault_verify(vault, engine, NULL, &face, "door-access", NOTICE, "badge-1", &decision);
}
static fg_status verify_null_face(void) {
    return fg_vault_verify(vault, engine, &frame, NULL, "door-access", NOTICE, "badge-1", &decision);
}
static fg_status verify_null_purpose(void) {
    return fg_vault_verify(vault, engine, &frame, &face, NULL, NOTICE, "badge-1", &decision);
}
static fg_status verify_null_notice(void) {
    return fg_vault_verify(vault, engine, &frame, &face, "door-access", NULL, "badge-1", &decision);
}
static fg_status verify_null_subject(void) {
    return fg_vault_verify(vault, engine, &frame, &face, "door-access", NOTICE, NULL, &decision);
}
static fg_status create_null_dir(void) { return fg_vault_create(NULL, key, 32, &new_vault); }
static fg_status create_null_key(void) { return fg_vault_create(scratch, NULL, 32, &new_vault); }
static fg_status create_null_out(void) { return fg_vault_create(scratch, key, 32, NULL); }
static fg_status revoke_null_vault(void) { return fg_vault_revoke(NULL, consent); }
static fg_status revoke_subject_null_vault(void) { return fg_vault_revoke_subject(NULL, "badge-1", &n); }
static fg_status revoke_subject_null_subject(void) { return fg_vault_revoke_subject(vault, NULL, &n); }
static fg_status revoke_subject_null_out(void) { return fg_vault_revoke_subject(vault, "badge-1", NULL); }
static fg_status count_null_vault(void) { return fg_vault_subject_count(NULL, &n); }
static fg_status sweep_null_vault(void) { return fg_vault_sweep_expired(NULL, &n); }
static fg_status sweep_null_out(void) { return fg_vault_sweep_expired(vault, NULL); }
static fg_status audit_verify_null_vault(void) { return fg_vault_audit_verify(NULL, &entries); }
static fg_status audit_verify_null_out(void) { return fg_vault_audit_verify(vault, NULL); }
static fg_status export_null_vault(void) { return fg_vault_audit_export(NULL, text, sizeof text, &n); }
static fg_status export_null_buffer(void) { return fg_vault_audit_export(vault, NULL, sizeof text, &n); }
static fg_status export_null_length(void) { return fg_vault_audit_export(vault, text, sizeof text, NULL); }
static fg_status export_zero_capacity(void) { return fg_vault_audit_export(vault, text, 0, &n); }
static fg_status export_length_null_vault(void) { return fg_vault_audit_export_length(NULL, &n); }
static fg_status rotate_null_vault(void) { return fg_vault_rotate_key(NULL, key, 32); }
static fg_status rotate_null_key(void) { return fg_vault_rotate_key(vault, NULL, 32); }
static uint8_t *slurp(const char *path, size_t *len) {
    FILE *f = fopen(path, "rb");
    if (!f)
        return NULL;
    fseek(f, 0, SEEK_END);
    *len = (size_t)ftell(f);
    fseek(f, 0, SEEK_SET);
    uint8_t *bytes = malloc(*len);
    if (bytes && fread(bytes, 1, *len, f) != *len) {
        free(bytes);
        bytes = NULL;
    }
    fclose(f);
    return bytes;
}
static fg_status engine_from_memory_ok(void) {
    size_t dl = 0, el = 0;
    uint8_t *d = slurp(detector, &dl), *e = slurp(embedder, &el);
    fg_status s = d && e ? fg_engine_new_from_memory(d, dl, e, el, NULL, &new_engine)
                         : FG_ERR_INTERNAL;
    free(d); /* the engine keeps its own copy */
    free(e);
    if (s == FG_OK) {
        size_t k = 0;
        s = fg_detect(new_engine, &frame, faces, 8, &k);
        if (s == FG_OK && k != 1)
            s = FG_ERR_INTERNAL;
    }
    return s;
}
static fg_status rotate_new_key(void) {
    uint8_t fresh[32];
    for (int i = 0; i < 32; i++)
        fresh[i] = (uint8_t)(255 - i);
    return fg_vault_rotate_key(vault, fresh, sizeof fresh);
}
static fg_status memory_null_out(void) {
    static const uint8_t junk[8] = {0};
    return fg_engine_new_from_memory(junk, sizeof junk, junk, sizeof junk, NULL, NULL);
}
static fg_status memory_null_embedder(void) {
    static const uint8_t junk[8] = {0};
    return fg_engine_new_from_memory(junk, sizeof junk, NULL, 8, NULL, &new_engine);
}

/* fg_status_str takes any integer: a code from a newer library, or garbage, gets a message. */
static fg_status status_str_unknown(int32_t code) {
    const char *text = fg_status_str(code);
    return text && strstr(text, "unknown status") ? FG_OK : FG_ERR_INTERNAL;
}
static fg_status status_str_minus_one(void) { return status_str_unknown(-1); }
static fg_status status_str_12345(void) { return status_str_unknown(12345); }
static fg_status status_str_int32_max(void) { return status_str_unknown(INT32_MAX); }
static fg_status status_str_int32_min(void) { return status_str_unknown(INT32_MIN); }
static fg_status status_str_gap(void) { return status_str_unknown(5); }

/* Detection never drops a face silently. Sentinel faces show whether anything was written. */
static const fg_face SENTINEL = {.struct_size = sizeof(fg_face), .x = -7.0f, .score = -1.0f};
static int untouched(const fg_face *f, size_t n) {
    for (size_t i = 0; i < n; i++)
        if (memcmp(&f[i], &SENTINEL, sizeof SENTINEL) != 0)
            return 0;
    return 1;
}
static fg_status detect_pair_all(void) {
    fg_status s = fg_detect(engine, &pair, faces, 8, &count);
    return s == FG_OK && count != 2 ? FG_ERR_INTERNAL : s;
}
static fg_status detect_pair_capacity_one(void) {
    faces[0] = SENTINEL;
    count = 0;
    fg_status s = fg_detect(engine, &pair, faces, 1, &count);
    /* The one exception to "out-parameters only on FG_OK": the count a retry needs. */
    if (s == FG_ERR_BUFFER_TOO_SMALL && (count != 2 || !untouched(faces, 1)))
        return FG_ERR_INTERNAL;
    return s;
}
static fg_status detect_pair_strongest_one(void) {
    fg_face all[8] = {{.struct_size = sizeof(fg_face)}};
    size_t n_all = 0, written = 0, found = 0;
    fg_status s = fg_detect(engine, &pair, all, 8, &n_all);
    if (s != FG_OK || n_all != 2)
        return FG_ERR_INTERNAL;
    faces[0] = faces[1] = SENTINEL;
    s = fg_detect_strongest(engine, &pair, faces, 1, &written, &found);
    if (s == FG_OK && (written != 1 || found != 2 || faces[0].score != all[0].score ||
                       !untouched(&faces[1], 1)))
        return FG_ERR_INTERNAL;
    return s;
}
static fg_status detect_strongest_room_to_spare(void) {
    size_t written = 0, found = 0;
    fg_status s = fg_detect_strongest(engine, &frame, faces, 8, &written, &found);
    return s == FG_OK && (written != 1 || found != 1) ? FG_ERR_INTERNAL : s;
}
static size_t written_, found_;
static fg_status strongest_null_engine(void) {
    return fg_detect_strongest(NULL, &frame, faces, 8, &written_, &found_);
}
static fg_status strongest_null_image(void) {
    return fg_detect_strongest(engine, NULL, faces, 8, &written_, &found_);
}
static fg_status strongest_null_faces(void) {
    return fg_detect_strongest(engine, &frame, NULL, 8, &written_, &found_);
}
static fg_status strongest_null_written(void) {
    return fg_detect_strongest(engine, &frame, faces, 8, NULL, &found_);
}
static fg_status strongest_null_found(void) {
    return fg_detect_strongest(engine, &frame, faces, 8, &written_, NULL);
}
static fg_status strongest_same_out_twice(void) {
    return fg_detect_strongest(engine, &frame, faces, 8, &found_, &found_);
}
static fg_status strongest_zero_capacity(void) {
    return fg_detect_strongest(engine, &frame, faces, 0, &written_, &found_);
}
static fg_status strongest_huge_capacity(void) {
    return fg_detect_strongest(engine, &frame, faces, SIZE_MAX, &written_, &found_);
}

/* One call, one commit: deletion and expiry commit; compaction is its own call. */
static uint64_t purged;
static fg_status enrol_new(const char *subject, uint64_t valid_seconds, uint64_t *c) {
    fg_consent_handle hc;
    fg_status s = fg_vault_grant(vault, "door-access", subject, NOTICE, valid_seconds, c, &hc);
    return s != FG_OK ? s : fg_vault_enroll(vault, engine, &frame, &face, &hc);
}
static fg_status revoke_subject_then_compact(void) {
    uint64_t c;
    fg_status s = enrol_new("badge-5", 3600, &c);
    if (s != FG_OK)
        return s;
    n = 0;
    if ((s = fg_vault_revoke_subject(vault, "badge-5", &n)) != FG_OK)
        return s;
    if (n != 1)
        return FG_ERR_INTERNAL;
    purged = 0;
    s = fg_vault_compact(vault, &purged);
    return s == FG_OK && purged != 1 ? FG_ERR_INTERNAL : s;
}
static fg_status sweep_then_compact(void) {
    /* A consent that lasts just long enough to enrol under (seconds natively, longer under
     * valgrind): each try that expires first is one more consent for the sweep to end. */
    uint64_t c, validity = 1, tries = 0;
    fg_status s;
    do {
        tries++;
        s = enrol_new("badge-6", validity, &c);
        validity *= 2;
    } while (s == FG_ERR_CONSENT_EXPIRED && validity <= 1024);
    if (s != FG_OK)
        return s;
    sleep((unsigned)validity / 2 + 1);
    n = 0;
    if ((s = fg_vault_sweep_expired(vault, &n)) != FG_OK)
        return s;
    if (n != tries)
        return FG_ERR_INTERNAL;
    purged = 0;
    s = fg_vault_compact(vault, &purged);
    return s == FG_OK && purged != 1 ? FG_ERR_INTERNAL : s;
}
static fg_status compact_nothing_left(void) {
    purged = 1;
    fg_status s = fg_vault_compact(vault, &purged);
    return s == FG_OK && purged != 0 ? FG_ERR_INTERNAL : s;
}
static fg_status compact_null_vault(void) { return fg_vault_compact(NULL, &purged); }
static fg_status compact_null_out(void) { return fg_vault_compact(vault, NULL); }

/* ---- quality gates and operating points ---- */
static fg_quality quality;
static fg_status quality_of(const fg_face *f) {
    memset(&quality, 0, sizeof quality);
    quality.struct_size = sizeof quality;
    return fg_face_quality(engine, &frame, f, &quality);
}
/* The real face: measured, and good enough for both gates. */
static fg_status quality_ok(void) {
    fg_status s = quality_of(&face);
    if (s != FG_OK)
        return s;
    int sane = quality.struct_size == sizeof quality && quality.enrolment == FG_OK &&
               quality.probe == FG_OK && quality.eye_distance_px > 32.0f &&
               quality.eye_distance_px < (float)frame.width && quality.sharpness > 0.0f &&
               quality.brightness > 0.0f && quality.brightness < 255.0f &&
               quality.contrast > 0.0f && quality.yaw > -0.35f && quality.yaw < 0.35f &&
               quality.pitch > 0.0f && quality.pitch < 1.0f && quality.roll_deg > -30.0f &&
               quality.roll_deg < 30.0f;
    if (!sane)
        printf("     measures: eyes %.1f px, sharpness %.3f, brightness %.1f, contrast %.1f, "
               "yaw %.2f, pitch %.2f, roll %.1f\n",
               quality.eye_distance_px, quality.sharpness, quality.brightness, quality.contrast,
               quality.yaw, quality.pitch, quality.roll_deg);
    return sane ? FG_OK : FG_ERR_INTERNAL;
}
static fg_status quality_null_engine(void) { return fg_face_quality(NULL, &frame, &face, &quality); }
static fg_status quality_null_image(void) { return fg_face_quality(engine, NULL, &face, &quality); }
static fg_status quality_null_face(void) { return fg_face_quality(engine, &frame, NULL, &quality); }
static fg_status quality_null_out(void) { return fg_face_quality(engine, &frame, &face, NULL); }
/* A caller compiled against a smaller structure: refused, and not one byte written. */
static fg_status quality_short_struct(void) {
    unsigned char before[sizeof(fg_quality)];
    memset(&quality, 0xAB, sizeof quality);
    quality.struct_size = sizeof quality - sizeof(float);
    memcpy(before, &quality, sizeof quality);
    fg_status s = fg_face_quality(engine, &frame, &face, &quality);
    return memcmp(before, &quality, sizeof quality) != 0 ? FG_ERR_INTERNAL : s;
}
static fg_status quality_zero_struct(void) {
    memset(&quality, 0, sizeof quality);
    return fg_face_quality(engine, &frame, &face, &quality);
}
/* The real face as if it were far away: its landmarks and box shrunk about its eyes to 10 px
 * between the eyes, on the same frame. */
static fg_face tiny_face(void) {
    fg_face t = face;
    float cx = (face.landmarks[0] + face.landmarks[2]) / 2, cy = (face.landmarks[1] + face.landmarks[3]) / 2;
    float dx = face.landmarks[2] - face.landmarks[0], dy = face.landmarks[3] - face.landmarks[1];
    float k = 10.0f / sqrtf(dx * dx + dy * dy);
    for (int i = 0; i < 10; i += 2) {
        t.landmarks[i] = cx + (face.landmarks[i] - cx) * k;
        t.landmarks[i + 1] = cy + (face.landmarks[i + 1] - cy) * k;
    }
    t.x = cx + (face.x - cx) * k;
    t.y = cy + (face.y - cy) * k;
    t.width = face.width * k;
    t.height = face.height * k;
    return t;
}
static fg_status quality_tiny(void) {
    fg_face t = tiny_face();
    fg_status s = quality_of(&t);
    if (s == FG_OK && (quality.enrolment != FG_ERR_FACE_TOO_SMALL ||
                       quality.probe != FG_ERR_FACE_TOO_SMALL || quality.eye_distance_px > 10.5f))
        return FG_ERR_INTERNAL;
    return s;
}
/* Enrolling a tiny face: refused with what to fix, and nothing enrolled. */
static fg_status enroll_tiny(void) {
    uint64_t c;
    fg_consent_handle hc;
    size_t before = 0, after = 0;
    fg_face t = tiny_face();
    fg_status s = fg_vault_subject_count(vault, &before);
    if (s == FG_OK)
        s = fg_vault_grant(vault, "door-access", "badge-far", NOTICE, 3600, &c, &hc);
    if (s != FG_OK)
        return FG_ERR_INTERNAL;
    s = fg_vault_enroll(vault, engine, &frame, &t, &hc);
    if (fg_vault_subject_count(vault, &after) != FG_OK || after != before)
        return FG_ERR_INTERNAL;
    if (fg_vault_verify(vault, engine, &frame, &face, "door-access", NOTICE, "badge-far",
                        &decision) != FG_ERR_UNKNOWN_SUBJECT)
        return FG_ERR_INTERNAL;
    return s;
}
/* Identifying a tiny face: "try again", neither a match nor an empty result. */
static fg_status identify_tiny(void) {
    fg_face t = tiny_face();
    n = 12345;
    fg_status s = fg_vault_identify(vault, engine, &frame, &t, "door-access", NOTICE, candidates,
                                    4, &n);
    return s != FG_OK && n != 12345 ? FG_ERR_INTERNAL : s;
}
static fg_status verify_tiny(void) {
    fg_face t = tiny_face();
    decision.score = -7.0f;
    fg_status s =
        fg_vault_verify(vault, engine, &frame, &t, "door-access", NOTICE, "badge-1", &decision);
    return s != FG_OK && decision.score != -7.0f ? FG_ERR_INTERNAL : s;
}
/* Fused enrolment: the frame's face three times, or with a tiny one among them. */
static fg_status fused(const fg_image *images, const fg_face *faces, size_t count, int tiny) {
    uint64_t c;
    fg_consent_handle hc;
    size_t before = 0, after = 0;
    if (fg_vault_subject_count(vault, &before) != FG_OK ||
        fg_vault_grant(vault, "door-access", tiny ? "badge-fused-far" : "badge-fused", NOTICE,
                       3600, &c, &hc) != FG_OK)
        return FG_ERR_INTERNAL;
    fg_status s = fg_vault_enroll_fused(vault, engine, images, faces, count, &hc);
    if (fg_vault_subject_count(vault, &after) != FG_OK)
        return FG_ERR_INTERNAL;
    /* One person more on success, none otherwise. */
    if (after != before + (s == FG_OK ? 1 : 0))
        return FG_ERR_INTERNAL;
    return s;
}
static fg_status fused_three(void) {
    fg_image images[3] = {frame, frame, frame};
    fg_face faces[3] = {face, face, face};
    return fused(images, faces, 3, 0);
}
static fg_status fused_one_tiny(void) {
    fg_image images[3] = {frame, frame, frame};
    fg_face faces[3] = {face, face, tiny_face()};
    return fused(images, faces, 3, 1);
}
static fg_status fused_zero(void) { return fused(&frame, &face, 0, 0); }
static fg_status fused_too_many(void) {
    fg_image images[FG_MAX_FUSED_PHOTOS + 1];
    fg_face faces[FG_MAX_FUSED_PHOTOS + 1];
    for (int i = 0; i < FG_MAX_FUSED_PHOTOS + 1; i++) {
        images[i] = frame;
        faces[i] = face;
    }
    return fused(images, faces, FG_MAX_FUSED_PHOTOS + 1, 0);
}
static fg_status fused_null_images(void) {
    return fg_vault_enroll_fused(vault, engine, NULL, &face, 1, &handle);
}
static fg_status fused_null_faces(void) {
    return fg_vault_enroll_fused(vault, engine, &frame, NULL, 1, &handle);
}
static fg_status fmr(const char *purpose, double rate) {
    return fg_vault_set_target_fmr(vault, engine, purpose, rate);
}
static fg_status fmr_null_vault(void) { return fg_vault_set_target_fmr(NULL, engine, "door-access", 1e-3); }
static fg_status fmr_null_engine(void) { return fg_vault_set_target_fmr(vault, NULL, "door-access", 1e-3); }
static fg_status fmr_null_purpose(void) { return fg_vault_set_target_fmr(vault, engine, NULL, 1e-3); }
static fg_status fmr_zero(void) { return fmr("door-access", 0.0); }
static fg_status fmr_one(void) { return fmr("door-access", 1.0); }
static fg_status fmr_nan(void) { return fmr("door-access", NAN); }
static fg_status fmr_negative(void) { return fmr("door-access", -1.0); }
static fg_status fmr_infinite(void) { return fmr("door-access", INFINITY); }
static fg_status fmr_too_low(void) { return fmr("door-access", 1e-9); }
static fg_status fmr_empty_purpose(void) { return fmr("", 1e-3); }
static fg_status fmr_control_purpose(void) { return fmr("door\naccess", 1e-3); }
static fg_status fmr_default(void) { return fmr("door-access", FG_DEFAULT_TARGET_FMR); }
/* A refused rate leaves the purpose's threshold as it was. */
static fg_status fmr_refused_keeps_threshold(void) {
    fg_decision before = {.struct_size = sizeof before}, after = {.struct_size = sizeof after};
    fg_status s = fmr("door-access", FG_DEFAULT_TARGET_FMR);
    if (s == FG_OK)
        s = fg_vault_verify(vault, engine, &frame, &face, "door-access", NOTICE, "badge-1", &before);
    if (s != FG_OK)
        return FG_ERR_INTERNAL;
    s = fmr("door-access", 1e-9);
    if (fg_vault_verify(vault, engine, &frame, &face, "door-access", NOTICE, "badge-1", &after) !=
            FG_OK ||
        after.threshold != before.threshold || !after.is_match)
        return FG_ERR_INTERNAL;
    return s;
}

struct row {
    const char *name;
    fg_status expected;
    fg_status (*run)(void);
};

/* A monotonic counter kept by the test, as firmware keeps one in a secure element or RPMB. */
static uint64_t counter_value;
static int counter_fails;
static int counter_read(void *context, uint64_t *value) {
    (void)context;
    if (counter_fails)
        return -1;
    *value = counter_value;
    return 0;
}
static int counter_advance(void *context, uint64_t value) {
    (void)context;
    if (counter_fails)
        return -1;
    if (value > counter_value)
        counter_value = value;
    return 0;
}
static fg_counter counter_of(void) {
    fg_counter c = {sizeof(fg_counter), NULL, counter_read, counter_advance};
    counter_value = 0;
    counter_fails = 0;
    return c;
}
static char counted_dir[1024], counted_copy[1024];
static fg_status open_counter_null(void) {
    return fg_vault_open_with_counter(copy_of_vault(), key, 32, NULL, &new_vault);
}
static fg_status create_counter_null(void) {
    return fg_vault_create_with_counter(scratch, key, 32, NULL, &new_vault);
}
static fg_status open_counter_null_callback(void) {
    fg_counter c = counter_of();
    c.advance = NULL;
    return fg_vault_open_with_counter(copy_of_vault(), key, 32, &c, &new_vault);
}
static fg_status open_counter_short_struct(void) {
    fg_counter c = counter_of();
    c.struct_size = 4;
    return fg_vault_open_with_counter(copy_of_vault(), key, 32, &c, &new_vault);
}
static fg_status open_counter_read_fails(void) {
    fg_counter c = counter_of();
    counter_fails = 1;
    return fg_vault_open_with_counter(copy_of_vault(), key, 32, &c, &new_vault);
}
/* A vault made without a counter is bound to a new one (at 0) when first opened with it. */
static fg_status open_counter_binds(void) {
    fg_counter c = counter_of();
    fg_status s = fg_vault_open_with_counter(copy_of_vault(), key, 32, &c, &new_vault);
    return s == FG_OK && counter_value == 0 ? FG_ERR_INTERNAL : s;
}
/* Every file of a vault bound to a counter put back as it was: detected. */
static fg_status counter_full_rollback(void) {
    char cmd[4096];
    fg_counter c = counter_of();
    snprintf(cmd, sizeof cmd, "rm -rf '%s' '%s'", counted_dir, counted_copy);
    if (system(cmd) != 0)
        return FG_ERR_INTERNAL;
    fg_vault *v = NULL;
    uint64_t cid;
    fg_consent_handle hc;
    fg_status s = fg_vault_create_with_counter(counted_dir, key, 32, &c, &v);
    if (s == FG_OK)
        s = fg_vault_grant(v, "door-access", "badge-7", NOTICE, 3600, &cid, &hc);
    if (s == FG_OK)
        s = fg_vault_enroll(v, engine, &frame, &face, &hc);
    fg_vault_free(v);
    v = NULL;
    if (s != FG_OK)
        return s;
    snprintf(cmd, sizeof cmd, "cp -r '%s' '%s'", counted_dir, counted_copy);
    if (system(cmd) != 0)
        return FG_ERR_INTERNAL;
    /* Passages at the door that a thief would like to erase. */
    if ((s = fg_vault_open_with_counter(counted_dir, key, 32, &c, &v)) != FG_OK)
        return s;
    s = fg_vault_identify(v, engine, &frame, &face, "door-access", NOTICE, candidates, 4, &n);
    fg_vault_free(v);
    if (s != FG_OK)
        return s;
    snprintf(cmd, sizeof cmd, "rm -rf '%s' && cp -r '%s' '%s'", counted_dir, counted_copy,
             counted_dir);
    if (system(cmd) != 0)
        return FG_ERR_INTERNAL;
    return fg_vault_open_with_counter(counted_dir, key, 32, &c, &new_vault);
}
static fg_status counter_untouched_vault_opens(void) {
    /* The same vault, not rolled back: the counter lets it open. */
    fg_counter c = counter_of();
    fg_vault *v = NULL;
    char cmd[4096];
    snprintf(cmd, sizeof cmd, "rm -rf '%s'", counted_dir);
    if (system(cmd) != 0)
        return FG_ERR_INTERNAL;
    fg_status s = fg_vault_create_with_counter(counted_dir, key, 32, &c, &v);
    fg_vault_free(v);
    if (s != FG_OK)
        return s;
    return fg_vault_open_with_counter(counted_dir, key, 32, &c, &new_vault);
}

/* ---- versions ---- */
static fg_status version_check_ok(void) { return FG_VERSION_CHECK(); }
static fg_status version_number_matches(void) {
    return fg_version_number() == FG_VERSION_NUMBER ? FG_OK : FG_ERR_INTERNAL;
}
static fg_status version_newer_patch(void) {
    return fg_check_version(FG_VERSION_MAJOR, FG_VERSION_MINOR, FG_VERSION_PATCH + 1);
}
static fg_status version_newer_minor(void) {
    return fg_check_version(FG_VERSION_MAJOR, FG_VERSION_MINOR + 1, 0);
}
static fg_status version_newer_major(void) { return fg_check_version(FG_VERSION_MAJOR + 1, 0, 0); }
/* While the major version is 0, an older minor version is another ABI too. */
static fg_status version_older_line(void) {
    return FG_VERSION_MAJOR == 0 ? fg_check_version(0, FG_VERSION_MINOR - 1, 0)
                                 : fg_check_version(FG_VERSION_MAJOR - 1, 0, 0);
}
static fg_status version_logged(void) {
    log_forget();
    fg_status s = fg_check_version(FG_VERSION_MAJOR + 1, 0, 0);
    return logged(FG_LOG_WARN, "fg_check_version: FG_ERR_VERSION", "the library is") ? s
                                                                                     : FG_ERR_INTERNAL;
}

/* ---- struct_size: smaller is refused before anything is done, larger is a newer caller ---- */
static fg_status image_zero_struct_size(void) {
    fg_image i = frame;
    i.struct_size = 0;
    return with_image(i);
}
static fg_status image_short_struct_size(void) {
    fg_image i = frame;
    i.struct_size = sizeof i - 1;
    return with_image(i);
}
/* A frame as a newer header might declare it: this version's fields, then more. */
struct newer_image {
    fg_image image;
    uint64_t added;
};
static fg_status image_larger_struct_size(void) {
    struct newer_image i = {.image = frame, .added = 0xFFFFFFFFFFFFFFFFu};
    i.image.struct_size = sizeof i;
    fg_status s = fg_detect(engine, &i.image, faces, 8, &count);
    return s == FG_OK && count != 1 ? FG_ERR_INTERNAL : s;
}
static fg_status detect_faces_short_struct_size(void) {
    faces[0] = SENTINEL;
    faces[0].struct_size = sizeof(fg_face) - 4;
    count = 12345;
    fg_status s = fg_detect(engine, &frame, faces, 8, &count);
    int untouched_ = faces[0].x == SENTINEL.x && count == 12345;
    faces[0] = SENTINEL;
    return untouched_ ? s : FG_ERR_INTERNAL;
}
/* A face array as a newer header might declare it: each element holds more. */
struct newer_face {
    fg_face face;
    float added;
};
static fg_status detect_faces_larger_stride(void) {
    struct newer_face wide[3];
    for (int i = 0; i < 3; i++)
        wide[i] = (struct newer_face){.face = SENTINEL, .added = 42.0f};
    wide[0].face.struct_size = sizeof wide[0];
    size_t n_wide = 0;
    fg_status s = fg_detect(engine, &pair, &wide[0].face, 3, &n_wide);
    if (s != FG_OK)
        return s;
    /* Two faces, at the caller's stride, each with the stride as its struct_size; the newer
     * field and the third element untouched. */
    int ok = n_wide == 2 && wide[0].face.struct_size == sizeof wide[0] &&
             wide[1].face.struct_size == sizeof wide[0] && wide[0].face.score > 0.5f &&
             wide[1].face.score > 0.5f && wide[0].added == 42.0f && wide[1].added == 42.0f &&
             memcmp(&wide[2].face, &SENTINEL, sizeof SENTINEL) == 0;
    return ok ? FG_OK : FG_ERR_INTERNAL;
}
/* Too many faces for the array, at a newer header's stride: the count a retry needs, and
 * nothing written. */
static fg_status detect_larger_stride_too_small(void) {
    struct newer_face wide[1] = {{.face = SENTINEL, .added = 42.0f}};
    wide[0].face.struct_size = sizeof wide[0];
    size_t needed = 0;
    fg_status s = fg_detect(engine, &pair, &wide[0].face, 1, &needed);
    int untouched_ = wide[0].face.x == SENTINEL.x && wide[0].added == 42.0f;
    return s == FG_ERR_BUFFER_TOO_SMALL && (needed != 2 || !untouched_) ? FG_ERR_INTERNAL : s;
}
static fg_status strongest_faces_short_struct_size(void) {
    fg_face f[2] = {{.struct_size = 4}};
    return fg_detect_strongest(engine, &frame, f, 2, &written_, &found_);
}
static fg_status quality_face_short_struct_size(void) {
    fg_face f = face;
    f.struct_size = sizeof f - 4;
    quality.struct_size = sizeof quality;
    return fg_face_quality(engine, &frame, &f, &quality);
}
static fg_status quality_image_short_struct_size(void) {
    fg_image i = frame;
    i.struct_size = 4;
    quality.struct_size = sizeof quality;
    return fg_face_quality(engine, &i, &face, &quality);
}
static fg_status enroll_face_short_struct_size(void) {
    fg_face f = face;
    f.struct_size = 0;
    return fg_vault_enroll(vault, engine, &frame, &f, &handle);
}
static fg_status enroll_image_short_struct_size(void) {
    fg_image i = frame;
    i.struct_size = sizeof i - 8;
    return fg_vault_enroll(vault, engine, &i, &face, &handle);
}
static fg_status identify_candidates_short_struct_size(void) {
    fg_candidate c[2] = {{.struct_size = sizeof(fg_candidate) - 1}};
    n = 12345;
    fg_status s = fg_vault_identify(vault, engine, &frame, &face, "door-access", NOTICE, c, 2, &n);
    return n != 12345 ? FG_ERR_INTERNAL : s;
}
static fg_status identify_face_short_struct_size(void) {
    fg_face f = face;
    f.struct_size = 1;
    return fg_vault_identify(vault, engine, &frame, &f, "door-access", NOTICE, candidates, 4, &n);
}
/* Candidates written at the caller's stride, each carrying it. */
struct newer_candidate {
    fg_candidate candidate;
    uint32_t added;
};
static fg_status identify_candidates_larger_stride(void) {
    struct newer_candidate c[2];
    memset(c, 0, sizeof c);
    c[0].candidate.struct_size = sizeof c[0];
    c[0].added = c[1].added = 7;
    size_t k = 0;
    fg_status s = fg_vault_identify(vault, engine, &frame, &face, "door-access", NOTICE,
                                    &c[0].candidate, 2, &k);
    if (s != FG_OK)
        return s;
    int ok = k >= 1 && c[0].candidate.struct_size == sizeof c[0] &&
             strcmp(c[0].candidate.subject, "badge-1") == 0 && c[0].candidate.is_match &&
             c[0].added == 7 && c[1].added == 7;
    return ok ? FG_OK : FG_ERR_INTERNAL;
}
static fg_status verify_decision_short_struct_size(void) {
    fg_decision d = {.struct_size = sizeof d - 4, .score = -7.0f};
    fg_status s = fg_vault_verify(vault, engine, &frame, &face, "door-access", NOTICE, "badge-1", &d);
    return d.score != -7.0f ? FG_ERR_INTERNAL : s;
}
static fg_status verify_face_short_struct_size(void) {
    fg_face f = face;
    f.struct_size = 0;
    return fg_vault_verify(vault, engine, &frame, &f, "door-access", NOTICE, "badge-1", &decision);
}
static fg_status fused_mixed_struct_sizes(void) {
    fg_image images[2] = {frame, frame};
    fg_face fs[2] = {face, face};
    fs[1].struct_size = sizeof(fg_face) + 4; /* not the stride element 0 gives */
    return fg_vault_enroll_fused(vault, engine, images, fs, 2, &handle);
}
static fg_status fused_image_short_struct_size(void) {
    fg_image images[2] = {frame, frame};
    fg_face fs[2] = {face, face};
    images[0].struct_size = 8;
    return fg_vault_enroll_fused(vault, engine, images, fs, 2, &handle);
}

/* ---- colour of a YUV frame ---- */
static fg_status image_unknown_color(void) {
    fg_image i = frame;
    i.color = 4;
    return with_image(i);
}
static fg_status image_huge_color(void) {
    fg_image i = frame;
    i.color = UINT32_MAX;
    return with_image(i);
}
/* Full-range BT.709 is taken, and the face still found (each value's matrix is checked by
 * faceguard-c's unit tests). */
static fg_status image_bt709_full(void) {
    fg_image i = frame;
    i.color = FG_COLOR_BT709_FULL;
    fg_status s = with_image(i);
    return s == FG_OK && count != 1 ? FG_ERR_INTERNAL : s;
}
/* Colour is checked for RGB frames too, though unused there. */
static fg_status image_rgb_unknown_color(void) {
    static uint8_t rgb[64 * 48 * 3];
    fg_image i = {.struct_size = sizeof i, .format = FG_PIXEL_RGB8, .color = 9, .width = 64,
                  .height = 48, .planes = {rgb}, .plane_len = {sizeof rgb}, .stride = {64 * 3}};
    return with_image(i);
}

/* ---- the match threshold ---- */
static fg_status threshold_null_vault(void) { return fg_vault_set_threshold(NULL, "door-access", 0.5f); }
static fg_status threshold_null_purpose(void) { return fg_vault_set_threshold(vault, NULL, 0.5f); }
static fg_status threshold_nan(void) { return fg_vault_set_threshold(vault, "door-access", NAN); }
static fg_status threshold_infinite(void) {
    return fg_vault_set_threshold(vault, "door-access", INFINITY);
}
static fg_status threshold_above_one(void) { return fg_vault_set_threshold(vault, "door-access", 1.5f); }
static fg_status threshold_below_minus_one(void) {
    return fg_vault_set_threshold(vault, "door-access", -1.01f);
}
static fg_status threshold_empty_purpose(void) { return fg_vault_set_threshold(vault, "", 0.5f); }
/* The threshold decides: 0.999 turns badge-1's own face away (seen 4 px to the right, so that
 * it scores a little below 1; the next row shows a low threshold letting it in); then the
 * default operating point is restored for the rows after this one. */
static fg_status threshold_decides(void) {
    fg_decision strict = {.struct_size = sizeof strict};
    fg_face moved = face;
    for (int i = 0; i < 10; i += 2)
        moved.landmarks[i] += 4.0f;
    moved.x += 4.0f;
    fg_status s = fg_vault_set_threshold(vault, "door-access", 0.999f);
    if (s == FG_OK)
        s = fg_vault_verify(vault, engine, &frame, &moved, "door-access", NOTICE, "badge-1", &strict);
    fg_status restored = fg_vault_set_target_fmr(vault, engine, "door-access", FG_DEFAULT_TARGET_FMR);
    if (s != FG_OK)
        return s;
    int ok = strict.threshold == 0.999f && !strict.is_match && strict.score > 0.5f;
    if (!ok)
        printf("     score %.4f\n", strict.score);
    return ok ? restored : FG_ERR_INTERNAL;
}

/* A refused threshold leaves the one set before. */
static fg_status threshold_refused_keeps_the_last(void) {
    fg_decision d = {.struct_size = sizeof d};
    if (fg_vault_set_threshold(vault, "door-access", 0.25f) != FG_OK)
        return FG_ERR_INTERNAL;
    fg_status s = fg_vault_set_threshold(vault, "door-access", NAN);
    fg_status v = fg_vault_verify(vault, engine, &frame, &face, "door-access", NOTICE, "badge-1", &d);
    fg_status restored = fg_vault_set_target_fmr(vault, engine, "door-access", FG_DEFAULT_TARGET_FMR);
    return v == FG_OK && restored == FG_OK && d.threshold == 0.25f && d.is_match ? s
                                                                              : FG_ERR_INTERNAL;
}

/* ---- detector settings and the detection-only engine ---- */
static fg_engine_options options_default(void) {
    fg_engine_options o = {.struct_size = sizeof o};
    return fg_engine_options_default(&o) == FG_OK ? o : (fg_engine_options){0};
}
static fg_status options_default_values(void) {
    fg_engine_options o = options_default();
    int ok = o.struct_size == sizeof o && o.score_threshold == 0.6f && o.nms_threshold == 0.3f &&
             o.max_side == 640 && o.min_face == 0 && o.max_faces == FG_MAX_FACES;
    return ok ? FG_OK : FG_ERR_INTERNAL;
}
static fg_status options_default_null(void) { return fg_engine_options_default(NULL); }
static fg_status options_default_short(void) {
    fg_engine_options o;
    memset(&o, 0xAB, sizeof o);
    o.struct_size = sizeof o - 4;
    fg_status s = fg_engine_options_default(&o);
    return o.max_side != 0xABABABABu ? FG_ERR_INTERNAL : s;
}
static fg_status with_options(fg_engine_options o) {
    return fg_engine_new_with_options(detector, embedder, &o, &new_engine);
}
static fg_status options_short_struct_size(void) {
    fg_engine_options o = options_default();
    o.struct_size = 4;
    return with_options(o);
}
static fg_status options_nan_score(void) {
    fg_engine_options o = options_default();
    o.score_threshold = NAN;
    return with_options(o);
}
static fg_status options_score_above_one(void) {
    fg_engine_options o = options_default();
    o.score_threshold = 1.5f;
    return with_options(o);
}
static fg_status options_nan_nms(void) {
    fg_engine_options o = options_default();
    o.nms_threshold = NAN;
    return with_options(o);
}
static fg_status options_tiny_max_side(void) {
    fg_engine_options o = options_default();
    o.max_side = 16;
    return with_options(o);
}
static fg_status options_huge_max_side(void) {
    fg_engine_options o = options_default();
    o.max_side = 100000;
    return with_options(o);
}
static fg_status options_zero_max_faces(void) {
    fg_engine_options o = options_default();
    o.max_faces = 0;
    return with_options(o);
}
static fg_status options_too_many_faces(void) {
    fg_engine_options o = options_default();
    o.max_faces = FG_MAX_FACES + 1;
    return with_options(o);
}
static fg_status options_huge_min_face(void) {
    fg_engine_options o = options_default();
    o.min_face = 16385;
    return with_options(o);
}
/* A bad option is refused before any model is read: even with no model there. */
static fg_status options_checked_before_models(void) {
    fg_engine_options o = options_default();
    o.score_threshold = -0.1f;
    return fg_engine_new_with_options("/nonexistent/yunet.onnx", NULL, &o, &new_engine);
}
static fg_status options_null_detector(void) {
    return fg_engine_new_with_options(NULL, embedder, NULL, &new_engine);
}
static fg_status options_null_out(void) {
    return fg_engine_new_with_options(detector, embedder, NULL, NULL);
}
static size_t faces_found_with(fg_engine_options o, const fg_image *image) {
    fg_engine *e = NULL;
    size_t k = 0;
    fg_face f[8] = {{.struct_size = sizeof(fg_face)}};
    if (fg_engine_new_with_options(detector, NULL, &o, &e) != FG_OK ||
        fg_detect(e, image, f, 8, &k) != FG_OK)
        k = 999;
    fg_engine_free(e);
    return k;
}
/* The smallest face: above the frame's face, it is dropped (below, kept: the next rows). */
static fg_status options_min_face_drops(void) {
    fg_engine_options o = options_default();
    float side = face.width < face.height ? face.width : face.height;
    o.min_face = (uint32_t)(side * 1.25f) + 1;
    return faces_found_with(o, &frame) == 0 ? FG_OK : FG_ERR_INTERNAL;
}
static fg_engine *detector_only;
/* A detection-only engine, with a smallest face below the frame's and one face at most: the
 * frame's face found as the full engine finds it, one of the pair's two. */
static fg_status detection_only_engine(void) {
    fg_engine_options o = options_default();
    float side = face.width < face.height ? face.width : face.height;
    o.min_face = (uint32_t)(side * 0.8f);
    o.max_faces = 1;
    fg_status s = fg_engine_new_with_options(detector, NULL, &o, &detector_only);
    if (s != FG_OK)
        return s;
    fg_face f[2] = {{.struct_size = sizeof(fg_face)}}, g[1] = {{.struct_size = sizeof(fg_face)}};
    size_t k = 0, in_pair = 0;
    if ((s = fg_detect(detector_only, &frame, f, 2, &k)) != FG_OK ||
        (s = fg_detect(detector_only, &pair, g, 1, &in_pair)) != FG_OK)
        return s;
    return k == 1 && f[0].x == face.x && f[0].score == face.score && in_pair == 1
               ? FG_OK
               : FG_ERR_INTERNAL;
}
static fg_status detection_only_quality(void) {
    quality.struct_size = sizeof quality;
    fg_status s = fg_face_quality(detector_only, &frame, &face, &quality);
    return s == FG_OK && (quality.enrolment != FG_OK || quality.eye_distance_px < 32.0f)
               ? FG_ERR_INTERNAL
               : s;
}
static fg_status detection_only_enroll(void) {
    uint64_t c;
    fg_consent_handle hc;
    if (fg_vault_grant(vault, "door-access", "badge-8", NOTICE, 3600, &c, &hc) != FG_OK)
        return FG_ERR_INTERNAL;
    fg_status s = fg_vault_enroll(vault, detector_only, &frame, &face, &hc);
    fg_vault_revoke(vault, c);
    return s;
}
static fg_status detection_only_fused(void) {
    return fg_vault_enroll_fused(vault, detector_only, &frame, &face, 1, &handle);
}
static fg_status detection_only_identify(void) {
    n = 12345;
    fg_status s = fg_vault_identify(vault, detector_only, &frame, &face, "door-access", NOTICE,
                                    candidates, 4, &n);
    return n != 12345 ? FG_ERR_INTERNAL : s;
}
static fg_status detection_only_verify(void) {
    return fg_vault_verify(vault, detector_only, &frame, &face, "door-access", NOTICE, "badge-1",
                           &decision);
}
static fg_status detection_only_target_fmr(void) {
    return fg_vault_set_target_fmr(vault, detector_only, "door-access", 1e-3);
}
static fg_status detection_only_free(void) {
    fg_engine_free(detector_only);
    detector_only = NULL;
    return FG_OK;
}
static fg_status memory_detection_only(void) {
    size_t dl = 0;
    uint8_t *d = slurp(detector, &dl);
    fg_status s = d ? fg_engine_new_from_memory_with_options(d, dl, NULL, 0, NULL, NULL, &new_engine)
                    : FG_ERR_INTERNAL;
    free(d);
    return s;
}
static fg_status memory_null_embedder_with_length(void) {
    static const uint8_t junk[8] = {0};
    return fg_engine_new_from_memory_with_options(junk, sizeof junk, NULL, 8, NULL, NULL,
                                                  &new_engine);
}
static fg_status memory_null_embedder_with_spec(void) {
    static const uint8_t junk[8] = {0};
    return fg_engine_new_from_memory_with_options(junk, sizeof junk, NULL, 0, "{}", NULL,
                                                  &new_engine);
}
static fg_status memory_options_short(void) {
    static const uint8_t junk[8] = {0};
    fg_engine_options o = options_default();
    o.struct_size = 0;
    return fg_engine_new_from_memory_with_options(junk, sizeof junk, NULL, 0, NULL, &o,
                                                  &new_engine);
}

/* ---- liveness: the check, its loading, and the templates it gates ---- */
static char models_dir[1024], liveness_json_path[1024];
static fg_liveness_result live;
static fg_status liveness_of(const fg_engine *e, const fg_face *f) {
    memset(&live, 0, sizeof live);
    live.struct_size = sizeof live;
    return fg_liveness(e, &frame, f, &live);
}
/* The real face: judged live, at the description's threshold. */
static fg_status liveness_ok(void) {
    fg_status s = liveness_of(engine, &face);
    if (s == FG_OK && !(live.is_live && live.score >= live.threshold &&
                        live.struct_size == sizeof live && isfinite(live.score)))
        return FG_ERR_INTERNAL;
    return s;
}
static fg_status liveness_null_engine(void) { return fg_liveness(NULL, &frame, &face, &live); }
static fg_status liveness_null_image(void) { return fg_liveness(engine, NULL, &face, &live); }
static fg_status liveness_null_face(void) { return fg_liveness(engine, &frame, NULL, &live); }
static fg_status liveness_null_out(void) { return fg_liveness(engine, &frame, &face, NULL); }
/* A caller compiled against a smaller structure: refused, not one byte written. */
static fg_status liveness_short_struct(void) {
    unsigned char before[sizeof(fg_liveness_result)];
    memset(&live, 0xAB, sizeof live);
    live.struct_size = sizeof live - 1;
    memcpy(before, &live, sizeof live);
    fg_status s = fg_liveness(engine, &frame, &face, &live);
    return memcmp(before, &live, sizeof live) != 0 ? FG_ERR_INTERNAL : s;
}
static fg_status liveness_tiny(void) {
    fg_face t = tiny_face();
    return liveness_of(engine, &t);
}
static fg_status liveness_outside(void) {
    fg_face o = face;
    o.x = (float)frame.width + 50.0f;
    return liveness_of(engine, &o);
}
static fg_status liveness_nan_box(void) {
    fg_face o = face;
    o.width = NAN;
    return liveness_of(engine, &o);
}
/* The frame's Y plane alone, as an infrared camera at night delivers it: no colour to judge. */
static fg_status liveness_grey_frame(void) {
    fg_image grey = frame;
    grey.format = FG_PIXEL_GRAY8;
    grey.planes[1] = NULL;
    grey.plane_len[1] = 0;
    grey.stride[1] = 0;
    memset(&live, 0, sizeof live);
    live.struct_size = sizeof live;
    return fg_liveness(engine, &grey, &face, &live);
}
/* The engine from memory of the models without a liveness check: detects, but makes no
 * template, and says why. */
static fg_engine *no_liveness;
static fg_status memory_without_liveness(void) {
    size_t dl = 0, el = 0;
    uint8_t *d = slurp(detector, &dl), *e = slurp(embedder, &el);
    fg_status s = d && e ? fg_engine_new_from_memory(d, dl, e, el, NULL, &no_liveness)
                         : FG_ERR_INTERNAL;
    free(d);
    free(e);
    return s;
}
static fg_status no_liveness_check(void) { return liveness_of(no_liveness, &face); }
static fg_status no_liveness_enroll(void) {
    uint64_t c;
    fg_consent_handle hc;
    fg_status s = fg_vault_grant(vault, "door-access", "badge-nolive", NOTICE, 3600, &c, &hc);
    if (s != FG_OK)
        return s;
    s = fg_vault_enroll(vault, no_liveness, &frame, &face, &hc);
    fg_vault_revoke(vault, c);
    return s;
}
static fg_status no_liveness_identify(void) {
    return fg_vault_identify(vault, no_liveness, &frame, &face, "door-access", NOTICE, candidates,
                             4, &n);
}
static fg_status no_liveness_free(void) {
    fg_engine_free(no_liveness);
    no_liveness = NULL;
    return FG_OK;
}
/* liveness.json as a NUL-terminated string. */
static char *slurp_text(const char *path) {
    size_t len = 0;
    uint8_t *bytes = slurp(path, &len);
    char *t = bytes ? realloc(bytes, len + 1) : NULL;
    if (!t) {
        free(bytes);
        return NULL;
    }
    t[len] = '\0';
    return t;
}
/* The model files liveness.json lists, in its order (a file may be listed twice, at two crops):
 * the values of its "file" keys, read once. The native run gets the shipped description, the
 * valgrind run scripts/c-common.sh's light one. */
#define MAX_LIVENESS_FILES 16 /* as many as a description may list */
static char liveness_files[MAX_LIVENESS_FILES][256];
static size_t liveness_file_count;
static int read_liveness_files(void) {
    char *json = slurp_text(liveness_json_path), *p = json;
    liveness_file_count = 0;
    while (p && (p = strstr(p, "\"file\"")) != NULL) {
        char *start = strchr(p + 6, '"'), *end = start ? strchr(start + 1, '"') : NULL;
        if (!end || liveness_file_count == MAX_LIVENESS_FILES ||
            (size_t)(end - start - 1) >= sizeof liveness_files[0]) {
            free(json);
            return 0;
        }
        memcpy(liveness_files[liveness_file_count], start + 1, (size_t)(end - start - 1));
        liveness_files[liveness_file_count++][end - start - 1] = '\0';
        p = end + 1;
    }
    free(json);
    return liveness_file_count > 0;
}
/* An engine from memory with its liveness check, `count` of the models given (and the JSON
 * if `with_json`); `path` set as well if `with_path`. */
static fg_status memory_liveness(size_t count, int with_json, int with_path, int null_models) {
    size_t dl = 0, el = 0, lens[MAX_LIVENESS_FILES] = {0}, loaded = 0;
    uint8_t *d = slurp(detector, &dl), *e = slurp(embedder, &el), *m[MAX_LIVENESS_FILES] = {0};
    char *json = slurp_text(liveness_json_path);
    char path[1200];
    for (size_t i = 0; i < liveness_file_count; i++) {
        snprintf(path, sizeof path, "%s/%s", models_dir, liveness_files[i]);
        m[i] = slurp(path, &lens[i]);
        loaded += m[i] != NULL;
    }
    fg_engine_options o = options_default();
    o.liveness_json = with_json ? json : NULL;
    o.liveness_models = null_models ? NULL : (const uint8_t *const *)m;
    o.liveness_model_lens = lens;
    o.liveness_model_count = count;
    o.liveness_path = with_path ? liveness_json_path : NULL;
    fg_status s = d && e && json && loaded == liveness_file_count
                      ? fg_engine_new_from_memory_with_options(d, dl, e, el, NULL, &o, &new_engine)
                      : FG_ERR_INTERNAL;
    free(d);
    free(e);
    free(json);
    for (size_t i = 0; i < liveness_file_count; i++)
        free(m[i]); /* the engine keeps its own copies */
    if (s == FG_OK) {
        s = liveness_of(new_engine, &face);
        if (s == FG_OK && !live.is_live)
            s = FG_ERR_PRESENTATION_ATTACK;
    }
    return s;
}
static fg_status memory_liveness_ok(void) { return memory_liveness(liveness_file_count, 1, 0, 0); }
static fg_status memory_liveness_one_short(void) {
    return memory_liveness(liveness_file_count - 1, 1, 0, 0);
}
static fg_status memory_liveness_models_without_json(void) {
    return memory_liveness(liveness_file_count, 0, 0, 0);
}
static fg_status memory_liveness_and_a_path(void) {
    return memory_liveness(liveness_file_count, 1, 1, 0);
}
static fg_status memory_liveness_null_models(void) {
    return memory_liveness(liveness_file_count, 1, 0, 1);
}
static fg_status memory_liveness_bad_json(void) {
    size_t dl = 0, el = 0;
    uint8_t *d = slurp(detector, &dl), *e = slurp(embedder, &el);
    fg_engine_options o = options_default();
    o.liveness_json = "{\"name\": \"x\"}";
    fg_status s = d && e ? fg_engine_new_from_memory_with_options(d, dl, e, el, NULL, &o, &new_engine)
                         : FG_ERR_INTERNAL;
    free(d);
    free(e);
    return s;
}
/* From files: a description given by path; a missing one; memory fields on a file engine. */
static fg_status files_liveness_path(void) {
    fg_engine_options o = options_default();
    o.liveness_path = liveness_json_path;
    fg_status s = fg_engine_new_with_options(detector, embedder, &o, &new_engine);
    return s == FG_OK ? liveness_of(new_engine, &face) : s;
}
static fg_status files_liveness_missing(void) {
    fg_engine_options o = options_default();
    o.liveness_path = "/nonexistent/liveness.json";
    return fg_engine_new_with_options(detector, embedder, &o, &new_engine);
}
static fg_status files_liveness_json(void) {
    fg_engine_options o = options_default();
    o.liveness_json = "{}";
    return fg_engine_new_with_options(detector, embedder, &o, &new_engine);
}
static fg_status detection_only_liveness_path(void) {
    fg_engine_options o = options_default();
    o.liveness_path = liveness_json_path;
    return fg_engine_new_with_options(detector, NULL, &o, &new_engine);
}
static fg_status detection_only_liveness_models(void) {
    static const uint8_t byte = 0;
    static const uint8_t *const models[1] = {&byte};
    fg_engine_options o = options_default();
    o.liveness_models = models;
    o.liveness_model_count = 1;
    return fg_engine_new_with_options(detector, NULL, &o, &new_engine);
}
static fg_status detection_only_liveness_lens(void) {
    static const size_t lens[1] = {1};
    fg_engine_options o = options_default();
    o.liveness_model_lens = lens;
    return fg_engine_new_from_memory_with_options((const uint8_t *)"x", 1, NULL, 0, NULL, &o,
                                                  &new_engine);
}
/* A detection-only engine judges no liveness: it makes no template. */
static fg_status detection_only_liveness(void) {
    fg_engine *d = NULL;
    fg_status s = fg_engine_new_with_options(detector, NULL, NULL, &d);
    if (s == FG_OK)
        s = liveness_of(d, &face);
    fg_engine_free(d);
    return s;
}
static fg_status status_str_liveness(void) {
    return strstr(fg_status_str(FG_ERR_PRESENTATION_ATTACK), "presentation attack") &&
                   strstr(fg_status_str(FG_ERR_NO_LIVENESS), "liveness")
               ? FG_OK
               : FG_ERR_INTERNAL;
}

/* ---- what opening a vault repaired ---- */
static fg_recovery_report report;
static fg_status recovery_of(const fg_vault *v) {
    memset(&report, 0xEE, sizeof report);
    report.struct_size = sizeof report;
    return fg_vault_recovery(v, &report);
}
static fg_status recovery_created(void) {
    fg_status s = recovery_of(vault); /* made by fg_vault_create: nothing to recover */
    int zero = report.struct_size == sizeof report && !report.rolled_forward &&
               !report.counter_advanced && report.torn_bytes == 0 &&
               report.leftovers_removed == 0 && report.keys_destroyed == 0 &&
               report.stale_key_files == 0 && report.templates_loaded == 0 &&
               report.templates_erased == 0 && report.clock_behind_secs == 0;
    return s == FG_OK && !zero ? FG_ERR_INTERNAL : s;
}
static fg_status recovery_of_a_copy(void) {
    fg_status s = fg_vault_open(copy_of_vault(), key, 32, &new_vault);
    if (s == FG_OK)
        s = recovery_of(new_vault);
    return s == FG_OK && (report.templates_loaded < 1 || report.torn_bytes != 0 ||
                          report.rolled_forward)
               ? FG_ERR_INTERNAL
               : s;
}
/* A power cut mid-append leaves a torn entry: opening cuts it, says so, and logs it. */
static fg_status recovery_torn_write(void) {
    char path[2048];
    const char *dir = copy_of_vault();
    snprintf(path, sizeof path, "%s/journal", dir);
    FILE *f = fopen(path, "ab");
    if (!f)
        return FG_ERR_INTERNAL;
    fwrite("\x01\x02\x03\x04\x05\x06\x07", 1, 7, f);
    fclose(f);
    log_forget();
    fg_status s = fg_vault_open(dir, key, 32, &new_vault);
    if (s == FG_OK)
        s = recovery_of(new_vault);
    if (s != FG_OK)
        return s;
    int ok = report.torn_bytes == 7 && logged(FG_LOG_WARN, "fg_vault_open: recovered", "cut 7 bytes") &&
             logged(FG_LOG_INFO, "fg_vault_open: vault opened", "templates");
    return ok ? FG_OK : FG_ERR_INTERNAL;
}
static fg_status recovery_null_vault(void) { return recovery_of(NULL); }
static fg_status recovery_null_out(void) { return fg_vault_recovery(vault, NULL); }
static fg_status recovery_short_struct_size(void) {
    memset(&report, 0xEE, sizeof report);
    report.struct_size = sizeof report - 8;
    fg_status s = fg_vault_recovery(vault, &report);
    return report.clock_behind_secs != 0xEEEEEEEEEEEEEEEEu ? FG_ERR_INTERNAL : s;
}

/* ---- the log callback ---- */
static fg_status log_unknown_level(void) { return fg_set_log_callback(on_log, &log_seen, 5); }
static fg_status log_zero_level(void) { return fg_set_log_callback(on_log, &log_seen, 0); }
/* A failure is logged with the detail its status loses (here: the Rust error's message). */
static fg_status log_failure_detail(void) {
    log_forget();
    fg_status s = fg_vault_open("/nonexistent/vault", key, 32, &new_vault);
    return logged(FG_LOG_WARN, "fg_vault_open: FG_ERR_NO_VAULT (34)", "no faceguard vault in /nonexistent/vault")
               ? s
               : FG_ERR_INTERNAL;
}
static fg_status log_error_level(void) {
    log_forget();
    uint8_t wrong[32] = {0};
    fg_status s = fg_vault_open(copy_of_vault(), wrong, sizeof wrong, &new_vault);
    return logged(FG_LOG_ERROR, "fg_vault_open: FG_ERR_WRONG_KEY", "another key") ? s : FG_ERR_INTERNAL;
}
/* A subject's id never reaches the log, whatever happens to it. */
static fg_status log_never_names_the_subject(void) {
    const char *who = "badge-Zq7-private";
    uint64_t c;
    fg_consent_handle hc;
    size_t revoked = 0;
    size_t before = log_seen.messages;
    fg_status s = fg_vault_grant(vault, "door-access", who, NOTICE, 3600, &c, &hc);
    if (s == FG_OK)
        s = fg_vault_enroll(vault, engine, &frame, &face, &hc);
    if (s != FG_OK)
        return FG_ERR_INTERNAL;
    /* Failures that concern them: a revocation, then calls after it (a verification of a
     * subject not enrolled is the row "verify: subject not enrolled"). */
    if (fg_vault_revoke_subject(vault, who, &revoked) != FG_OK ||
        fg_vault_revoke_subject(vault, who, &revoked) != FG_ERR_UNKNOWN_SUBJECT ||
        fg_vault_enroll(vault, engine, &frame, &face, &hc) != FG_ERR_CONSENT_REVOKED ||
        fg_vault_grant(vault, "door-access", who, NOTICE, 0, &c, &hc) != FG_ERR_CONSENT_INVALID ||
        fg_vault_compact(vault, &purged) != FG_OK)
        return FG_ERR_INTERNAL;
    /* They were logged (the callback checks each for "badge-"), the compaction at INFO. */
    return log_seen.messages >= before + 4 && log_seen.leaks == 0 ? FG_OK : FG_ERR_INTERNAL;
}
/* NULL turns logging off; the callback is set again for the rest of the test. */
static fg_status log_off(void) {
    fg_status s = fg_set_log_callback(NULL, NULL, 0);
    size_t before = log_seen.messages;
    fg_detect(NULL, &frame, faces, 8, &count);
    fg_status again = fg_set_log_callback(on_log, &log_seen, FG_LOG_DEBUG);
    if (s != FG_OK || again != FG_OK || log_seen.messages != before)
        return FG_ERR_INTERNAL;
    return FG_OK;
}
/* Only messages at or below max_level arrive. */
static fg_status log_max_level(void) {
    fg_status s = fg_set_log_callback(on_log, &log_seen, FG_LOG_ERROR);
    size_t before = log_seen.messages;
    fg_detect(NULL, &frame, faces, 8, &count); /* a WARN */
    size_t after_warn = log_seen.messages;
    fg_vault_open("/nonexistent/vault", key, 32, &new_vault); /* a WARN too */
    fg_status again = fg_set_log_callback(on_log, &log_seen, FG_LOG_DEBUG);
    if (s != FG_OK || again != FG_OK || after_warn != before || log_seen.messages != before)
        return FG_ERR_INTERNAL;
    return FG_OK;
}

static const struct row ROWS[] = {
    {"version: FG_VERSION_CHECK()", FG_OK, version_check_ok},
    {"version: fg_version_number() = FG_VERSION_NUMBER", FG_OK, version_number_matches},
    {"version: a newer patch's header", FG_ERR_VERSION, version_newer_patch},
    {"version: a newer minor's header", FG_ERR_VERSION, version_newer_minor},
    {"version: a newer major's header", FG_ERR_VERSION, version_newer_major},
    {"version: an older line's header (0.x: minor)", FG_ERR_VERSION, version_older_line},
    {"version: the refusal is logged", FG_ERR_VERSION, version_logged},
    {"status str: -1", FG_OK, status_str_minus_one},
    {"status str: 12345", FG_OK, status_str_12345},
    {"status str: INT32_MAX", FG_OK, status_str_int32_max},
    {"status str: INT32_MIN", FG_OK, status_str_int32_min},
    {"status str: 5 (between groups)", FG_OK, status_str_gap},
    {"engine: NULL detector path", FG_ERR_NULL_POINTER, engine_null_detector},
    {"engine: NULL embedder path", FG_ERR_NULL_POINTER, engine_null_embedder},
    {"engine: NULL out", FG_ERR_NULL_POINTER, engine_null_out},
    {"engine: missing model file", FG_ERR_MODEL, engine_missing_file},
    {"engine: models swapped", FG_ERR_MODEL, engine_swapped_models},
    {"engine from memory: NULL buffer", FG_ERR_NULL_POINTER, engine_memory_null},
    {"engine from memory: zero length", FG_ERR_INVALID_ARGUMENT, engine_memory_zero_length},
    {"engine from memory: not ONNX", FG_ERR_MODEL, engine_memory_garbage},
    {"engine from memory: bad spec JSON", FG_ERR_MODEL, engine_memory_bad_spec},
    {"free(NULL) of each handle", FG_OK, free_null},
    {"detect: good frame", FG_OK, detect_ok},
    {"detect: NULL engine", FG_ERR_NULL_POINTER, detect_null_engine},
    {"detect: NULL image", FG_ERR_NULL_POINTER, detect_null_image},
    {"detect: NULL faces", FG_ERR_NULL_POINTER, detect_null_faces},
    {"detect: NULL count", FG_ERR_NULL_POINTER, detect_null_count},
    {"detect: zero capacity", FG_ERR_INVALID_ARGUMENT, detect_zero_capacity},
    {"detect: huge capacity", FG_ERR_INVALID_ARGUMENT, detect_huge_capacity},
    {"detect: two faces, room for 8", FG_OK, detect_pair_all},
    {"detect: two faces, room for 1 (count = 2)", FG_ERR_BUFFER_TOO_SMALL, detect_pair_capacity_one},
    {"detect strongest: two faces, room for 1", FG_OK, detect_pair_strongest_one},
    {"detect strongest: one face, room for 8", FG_OK, detect_strongest_room_to_spare},
    {"detect strongest: NULL engine", FG_ERR_NULL_POINTER, strongest_null_engine},
    {"detect strongest: NULL image", FG_ERR_NULL_POINTER, strongest_null_image},
    {"detect strongest: NULL faces", FG_ERR_NULL_POINTER, strongest_null_faces},
    {"detect strongest: NULL written", FG_ERR_NULL_POINTER, strongest_null_written},
    {"detect strongest: NULL found", FG_ERR_NULL_POINTER, strongest_null_found},
    {"detect strongest: written and found one variable", FG_ERR_INVALID_ARGUMENT,
     strongest_same_out_twice},
    {"detect strongest: zero capacity", FG_ERR_INVALID_ARGUMENT, strongest_zero_capacity},
    {"detect strongest: huge capacity", FG_ERR_INVALID_ARGUMENT, strongest_huge_capacity},
    {"image: Y stride shorter than a row", FG_ERR_IMAGE, image_short_stride},
    {"image: UV stride shorter than a row", FG_ERR_IMAGE, image_short_uv_stride},
    {"image: Y plane shorter than its rows", FG_ERR_IMAGE, image_short_plane},
    {"image: zero-length plane", FG_ERR_INVALID_ARGUMENT, image_zero_length_plane},
    {"image: NULL plane", FG_ERR_NULL_POINTER, image_null_plane},
    {"image: unknown pixel format 99", FG_ERR_INVALID_ARGUMENT, image_bad_format},
    {"image: I420 without its third plane", FG_ERR_NULL_POINTER, image_packed_as_planar},
    {"image: zero width", FG_ERR_IMAGE, image_zero_width},
    {"image: odd height for NV12", FG_ERR_IMAGE, image_odd_height},
    {"image: 2^30 x 2^30", FG_ERR_IMAGE, image_huge},
    {"image: huge stride", FG_ERR_IMAGE, image_huge_stride},
    {"image: struct_size 0", FG_ERR_INVALID_ARGUMENT, image_zero_struct_size},
    {"image: struct_size one byte short", FG_ERR_INVALID_ARGUMENT, image_short_struct_size},
    {"image: a newer header's larger struct", FG_OK, image_larger_struct_size},
    {"image: unknown color 4", FG_ERR_INVALID_ARGUMENT, image_unknown_color},
    {"image: color UINT32_MAX", FG_ERR_INVALID_ARGUMENT, image_huge_color},
    {"image: FG_COLOR_BT709_FULL finds the face", FG_OK, image_bt709_full},
    {"image: RGB frame, unknown color", FG_ERR_INVALID_ARGUMENT, image_rgb_unknown_color},
    {"detect: faces[0].struct_size short (untouched)", FG_ERR_INVALID_ARGUMENT,
     detect_faces_short_struct_size},
    {"detect: a newer header's larger faces (stride)", FG_OK, detect_faces_larger_stride},
    {"detect: newer stride, room for 1 (count = 2)", FG_ERR_BUFFER_TOO_SMALL,
     detect_larger_stride_too_small},
    {"detect strongest: faces[0].struct_size short", FG_ERR_INVALID_ARGUMENT,
     strongest_faces_short_struct_size},
    {"vault open: a copy, right key", FG_OK, vault_open_copy},
    {"vault open: while open in another handle", FG_ERR_VAULT_BUSY, vault_open_busy},
    {"vault open: wrong key", FG_ERR_WRONG_KEY, vault_open_wrong_key},
    {"vault open: 31-byte key", FG_ERR_INVALID_ARGUMENT, vault_open_short_key},
    {"vault open: NULL key", FG_ERR_NULL_POINTER, vault_open_null_key},
    {"vault open: NULL dir", FG_ERR_NULL_POINTER, vault_open_null_dir},
    {"vault open: NULL out", FG_ERR_NULL_POINTER, vault_open_null_out},
    {"vault open: no vault there", FG_ERR_NO_VAULT, vault_open_missing},
    {"vault create: one exists there", FG_ERR_VAULT_EXISTS, vault_create_twice},
    {"vault open: a flipped bit in the journal", FG_ERR_CORRUPT, vault_open_tampered},
    {"grant: NULL vault", FG_ERR_NULL_POINTER, grant_null_vault},
    {"grant: NULL purpose", FG_ERR_NULL_POINTER, grant_null_purpose},
    {"grant: NULL subject", FG_ERR_NULL_POINTER, grant_null_subject},
    {"grant: NULL notice", FG_ERR_NULL_POINTER, grant_null_notice},
    {"grant: NULL out", FG_ERR_NULL_POINTER, grant_null_out},
    {"grant: NULL handle", FG_ERR_NULL_POINTER, grant_null_handle},
    {"grant: blank notice", FG_ERR_CONSENT_INVALID, grant_empty_notice},
    {"grant: empty subject", FG_ERR_CONSENT_INVALID, grant_empty_subject},
    {"grant: empty purpose", FG_ERR_CONSENT_INVALID, grant_empty_purpose},
    {"grant: zero validity", FG_ERR_CONSENT_INVALID, grant_zero_validity},
    {"grant: validity beyond a year", FG_ERR_CONSENT_INVALID, grant_huge_validity},
    {"grant: subject not UTF-8", FG_ERR_INVALID_ARGUMENT, grant_not_utf8},
    {"enroll: NULL face", FG_ERR_NULL_POINTER, enroll_null_face},
    {"enroll: NULL handle", FG_ERR_NULL_POINTER, enroll_null_handle},
    {"enroll: unknown consent", FG_ERR_CONSENT_UNKNOWN, enroll_unknown_consent},
    {"enroll: consent id alone (guessed)", FG_ERR_CONSENT_UNKNOWN, enroll_guessed_handle},
    {"enroll: revoked consent", FG_ERR_CONSENT_REVOKED, enroll_revoked_consent},
    {"enroll: expired consent", FG_ERR_CONSENT_EXPIRED, enroll_expired_consent},
    {"identify: good", FG_OK, identify_ok},
    {"quality: the real face", FG_OK, quality_ok},
    {"quality: NULL engine", FG_ERR_NULL_POINTER, quality_null_engine},
    {"quality: NULL image", FG_ERR_NULL_POINTER, quality_null_image},
    {"quality: NULL face", FG_ERR_NULL_POINTER, quality_null_face},
    {"quality: NULL out", FG_ERR_NULL_POINTER, quality_null_out},
    {"quality: struct_size too small", FG_ERR_INVALID_ARGUMENT, quality_short_struct},
    {"quality: struct_size 0", FG_ERR_INVALID_ARGUMENT, quality_zero_struct},
    {"quality: a face 10 px between the eyes", FG_OK, quality_tiny},
    {"enroll: face too small (nothing enrolled)", FG_ERR_FACE_TOO_SMALL, enroll_tiny},
    {"identify: face too small (try again)", FG_ERR_FACE_TOO_SMALL, identify_tiny},
    {"verify: face too small (try again)", FG_ERR_FACE_TOO_SMALL, verify_tiny},
    {"enroll fused: three photos, one template", FG_OK, fused_three},
    {"enroll fused: one face too small (nothing enrolled)", FG_ERR_FACE_TOO_SMALL, fused_one_tiny},
    {"enroll fused: no photo", FG_ERR_INVALID_ARGUMENT, fused_zero},
    {"enroll fused: FG_MAX_FUSED_PHOTOS + 1 photos", FG_ERR_INVALID_ARGUMENT, fused_too_many},
    {"enroll fused: NULL images", FG_ERR_NULL_POINTER, fused_null_images},
    {"enroll fused: NULL faces", FG_ERR_NULL_POINTER, fused_null_faces},
    {"target fmr: NULL vault", FG_ERR_NULL_POINTER, fmr_null_vault},
    {"target fmr: NULL engine", FG_ERR_NULL_POINTER, fmr_null_engine},
    {"target fmr: NULL purpose", FG_ERR_NULL_POINTER, fmr_null_purpose},
    {"target fmr: 0", FG_ERR_UNCALIBRATED, fmr_zero},
    {"target fmr: 1", FG_ERR_UNCALIBRATED, fmr_one},
    {"target fmr: NaN", FG_ERR_UNCALIBRATED, fmr_nan},
    {"target fmr: -1", FG_ERR_UNCALIBRATED, fmr_negative},
    {"target fmr: infinity", FG_ERR_UNCALIBRATED, fmr_infinite},
    {"target fmr: 1e-9 (no point that low)", FG_ERR_UNCALIBRATED, fmr_too_low},
    {"target fmr: empty purpose", FG_ERR_CONSENT_INVALID, fmr_empty_purpose},
    {"target fmr: purpose with a newline", FG_ERR_CONSENT_INVALID, fmr_control_purpose},
    {"target fmr: FG_DEFAULT_TARGET_FMR", FG_OK, fmr_default},
    {"target fmr: refused, threshold kept", FG_ERR_UNCALIBRATED, fmr_refused_keeps_threshold},
    {"quality: face struct_size short", FG_ERR_INVALID_ARGUMENT, quality_face_short_struct_size},
    {"quality: image struct_size short", FG_ERR_INVALID_ARGUMENT, quality_image_short_struct_size},
    {"enroll: face struct_size 0", FG_ERR_INVALID_ARGUMENT, enroll_face_short_struct_size},
    {"enroll: image struct_size short", FG_ERR_INVALID_ARGUMENT, enroll_image_short_struct_size},
    {"identify: candidates[0].struct_size short", FG_ERR_INVALID_ARGUMENT,
     identify_candidates_short_struct_size},
    {"identify: face struct_size short", FG_ERR_INVALID_ARGUMENT, identify_face_short_struct_size},
    {"identify: a newer header's larger candidates", FG_OK, identify_candidates_larger_stride},
    {"verify: decision struct_size short", FG_ERR_INVALID_ARGUMENT,
     verify_decision_short_struct_size},
    {"verify: face struct_size 0", FG_ERR_INVALID_ARGUMENT, verify_face_short_struct_size},
    {"enroll fused: faces of two struct_sizes", FG_ERR_INVALID_ARGUMENT, fused_mixed_struct_sizes},
    {"enroll fused: images[0].struct_size short", FG_ERR_INVALID_ARGUMENT,
     fused_image_short_struct_size},
    {"threshold: NULL vault", FG_ERR_NULL_POINTER, threshold_null_vault},
    {"threshold: NULL purpose", FG_ERR_NULL_POINTER, threshold_null_purpose},
    {"threshold: NaN", FG_ERR_INVALID_ARGUMENT, threshold_nan},
    {"threshold: infinity", FG_ERR_INVALID_ARGUMENT, threshold_infinite},
    {"threshold: 1.5", FG_ERR_INVALID_ARGUMENT, threshold_above_one},
    {"threshold: -1.01", FG_ERR_INVALID_ARGUMENT, threshold_below_minus_one},
    {"threshold: empty purpose", FG_ERR_CONSENT_INVALID, threshold_empty_purpose},
    {"threshold: 0.999 refuses the face", FG_OK, threshold_decides},
    {"threshold: 0.25 accepts it, NaN refused", FG_ERR_INVALID_ARGUMENT,
     threshold_refused_keeps_the_last},
    {"engine options: the defaults", FG_OK, options_default_values},
    {"engine options default: NULL", FG_ERR_NULL_POINTER, options_default_null},
    {"engine options default: struct_size short", FG_ERR_INVALID_ARGUMENT, options_default_short},
    {"engine options: struct_size short", FG_ERR_INVALID_ARGUMENT, options_short_struct_size},
    {"engine options: NaN score threshold", FG_ERR_INVALID_ARGUMENT, options_nan_score},
    {"engine options: score threshold 1.5", FG_ERR_INVALID_ARGUMENT, options_score_above_one},
    {"engine options: NaN NMS threshold", FG_ERR_INVALID_ARGUMENT, options_nan_nms},
    {"engine options: max_side 16", FG_ERR_INVALID_ARGUMENT, options_tiny_max_side},
    {"engine options: max_side 100000", FG_ERR_INVALID_ARGUMENT, options_huge_max_side},
    {"engine options: max_faces 0", FG_ERR_INVALID_ARGUMENT, options_zero_max_faces},
    {"engine options: max_faces FG_MAX_FACES + 1", FG_ERR_INVALID_ARGUMENT, options_too_many_faces},
    {"engine options: min_face 16385", FG_ERR_INVALID_ARGUMENT, options_huge_min_face},
    {"engine options: checked before the models", FG_ERR_INVALID_ARGUMENT,
     options_checked_before_models},
    {"engine options: NULL detector path", FG_ERR_NULL_POINTER, options_null_detector},
    {"engine options: NULL out", FG_ERR_NULL_POINTER, options_null_out},
    {"engine options: min_face above the face drops it", FG_OK, options_min_face_drops},
    {"detection only, min_face, max_faces 1: detects", FG_OK, detection_only_engine},
    {"detection only: quality", FG_OK, detection_only_quality},
    {"detection only: enroll", FG_ERR_NO_EMBEDDER, detection_only_enroll},
    {"detection only: enroll fused", FG_ERR_NO_EMBEDDER, detection_only_fused},
    {"detection only: identify", FG_ERR_NO_EMBEDDER, detection_only_identify},
    {"detection only: verify", FG_ERR_NO_EMBEDDER, detection_only_verify},
    {"detection only: target fmr", FG_ERR_NO_EMBEDDER, detection_only_target_fmr},
    {"detection only: free", FG_OK, detection_only_free},
    {"engine from memory: detection only", FG_OK, memory_detection_only},
    {"engine from memory: NULL embedder, length 8", FG_ERR_INVALID_ARGUMENT,
     memory_null_embedder_with_length},
    {"engine from memory: NULL embedder, a spec", FG_ERR_INVALID_ARGUMENT,
     memory_null_embedder_with_spec},
    {"engine from memory: options struct_size 0", FG_ERR_INVALID_ARGUMENT, memory_options_short},
    {"liveness: the real face is live", FG_OK, liveness_ok},
    {"liveness: NULL engine", FG_ERR_NULL_POINTER, liveness_null_engine},
    {"liveness: NULL image", FG_ERR_NULL_POINTER, liveness_null_image},
    {"liveness: NULL face", FG_ERR_NULL_POINTER, liveness_null_face},
    {"liveness: NULL result", FG_ERR_NULL_POINTER, liveness_null_out},
    {"liveness: struct_size short (untouched)", FG_ERR_INVALID_ARGUMENT, liveness_short_struct},
    {"liveness: a face too small to judge", FG_ERR_FACE_TOO_SMALL, liveness_tiny},
    {"liveness: a box outside the frame", FG_ERR_INVALID_ARGUMENT, liveness_outside},
    {"liveness: a NaN box", FG_ERR_INVALID_ARGUMENT, liveness_nan_box},
    {"liveness: a grey frame (the Y plane)", FG_ERR_NO_COLOUR, liveness_grey_frame},
    {"liveness: detection-only engine", FG_ERR_NO_LIVENESS, detection_only_liveness},
    {"liveness: status messages", FG_OK, status_str_liveness},
    {"engine from memory without liveness: made", FG_OK, memory_without_liveness},
    {"  ...: fg_liveness", FG_ERR_NO_LIVENESS, no_liveness_check},
    {"  ...: enroll refused", FG_ERR_NO_LIVENESS, no_liveness_enroll},
    {"  ...: identify refused", FG_ERR_NO_LIVENESS, no_liveness_identify},
    {"  ...: free", FG_OK, no_liveness_free},
    {"engine from memory with liveness: judges", FG_OK, memory_liveness_ok},
    {"  ...: one model fewer than the description lists", FG_ERR_INVALID_ARGUMENT,
     memory_liveness_one_short},
    {"  ...: models without the JSON", FG_ERR_INVALID_ARGUMENT,
     memory_liveness_models_without_json},
    {"  ...: a path as well", FG_ERR_INVALID_ARGUMENT, memory_liveness_and_a_path},
    {"  ...: NULL model array", FG_ERR_NULL_POINTER, memory_liveness_null_models},
    {"  ...: a description missing fields", FG_ERR_MODEL, memory_liveness_bad_json},
    {"engine options: liveness_path", FG_OK, files_liveness_path},
    {"engine options: liveness_path missing", FG_ERR_MODEL, files_liveness_missing},
    {"engine options: liveness_json on a file engine", FG_ERR_INVALID_ARGUMENT,
     files_liveness_json},
    {"engine options: detection only, a liveness_path", FG_ERR_INVALID_ARGUMENT,
     detection_only_liveness_path},
    {"engine options: detection only, liveness_models", FG_ERR_INVALID_ARGUMENT,
     detection_only_liveness_models},
    {"engine options: detection only from memory, liveness_model_lens", FG_ERR_INVALID_ARGUMENT,
     detection_only_liveness_lens},
    {"recovery: a vault just created", FG_OK, recovery_created},
    {"recovery: a copy opened", FG_OK, recovery_of_a_copy},
    {"recovery: a torn write cut and logged", FG_OK, recovery_torn_write},
    {"recovery: NULL vault", FG_ERR_NULL_POINTER, recovery_null_vault},
    {"recovery: NULL out", FG_ERR_NULL_POINTER, recovery_null_out},
    {"recovery: struct_size short", FG_ERR_INVALID_ARGUMENT, recovery_short_struct_size},
    {"log: max_level 5", FG_ERR_INVALID_ARGUMENT, log_unknown_level},
    {"log: max_level 0", FG_ERR_INVALID_ARGUMENT, log_zero_level},
    {"log: a failure with its detail", FG_ERR_NO_VAULT, log_failure_detail},
    {"log: a wrong key at ERROR", FG_ERR_WRONG_KEY, log_error_level},
    {"log: never names the subject", FG_OK, log_never_names_the_subject},
    {"log: NULL callback turns it off", FG_OK, log_off},
    {"log: nothing above max_level", FG_OK, log_max_level},
    {"identify: NULL candidates", FG_ERR_NULL_POINTER, identify_null_candidates},
    {"identify: zero capacity", FG_ERR_INVALID_ARGUMENT, identify_zero_capacity},
    {"identify: NULL notice", FG_ERR_NULL_POINTER, identify_null_notice},
    {"identify: empty purpose", FG_ERR_CONSENT_INVALID, identify_empty_purpose},
    {"verify: good", FG_OK, verify_ok},
    {"verify: wrong purpose", FG_ERR_UNKNOWN_SUBJECT, verify_wrong_purpose},
    {"verify: subject not enrolled", FG_ERR_UNKNOWN_SUBJECT, verify_unknown_subject},
    {"verify: NULL decision", FG_ERR_NULL_POINTER, verify_null_out},
    {"revoke: unknown subject", FG_ERR_UNKNOWN_SUBJECT, revoke_unknown_subject},
    {"revoke: unknown consent", FG_ERR_CONSENT_UNKNOWN, revoke_unknown_consent},
    {"subject count: NULL out", FG_ERR_NULL_POINTER, count_null},
    {"sweep expired", FG_OK, sweep_ok},
    {"revoke subject, then compact: 1 purged", FG_OK, revoke_subject_then_compact},
    {"sweep an expiry, then compact: 1 purged", FG_OK, sweep_then_compact},
    {"compact: nothing left to purge", FG_OK, compact_nothing_left},
    {"compact: NULL vault", FG_ERR_NULL_POINTER, compact_null_vault},
    {"compact: NULL out", FG_ERR_NULL_POINTER, compact_null_out},
    {"audit verify", FG_OK, audit_verify_ok},
    {"audit export: buffer too small", FG_ERR_BUFFER_TOO_SMALL, export_too_small},
    {"audit export", FG_OK, export_ok},
    {"audit export length: NULL out", FG_ERR_NULL_POINTER, export_length_null},
    {"rotate key: 16-byte key", FG_ERR_INVALID_ARGUMENT, rotate_short_key},
    {"rotate key: the same key", FG_ERR_INVALID_ARGUMENT, rotate_same_key},
    {"open with counter: NULL counter", FG_ERR_NULL_POINTER, open_counter_null},
    {"create with counter: NULL counter", FG_ERR_NULL_POINTER, create_counter_null},
    {"open with counter: NULL callback", FG_ERR_NULL_POINTER, open_counter_null_callback},
    {"open with counter: struct_size too small", FG_ERR_INVALID_ARGUMENT, open_counter_short_struct},
    {"open with counter: read callback fails", FG_ERR_COUNTER, open_counter_read_fails},
    {"open with counter: a new counter is bound", FG_OK, open_counter_binds},
    {"counter: vault opens as it was left", FG_OK, counter_untouched_vault_opens},
    {"counter: full rollback of every file", FG_ERR_ROLLED_BACK, counter_full_rollback},
    {"engine from memory: the real models", FG_OK, engine_from_memory_ok},
    {"engine from memory: NULL out", FG_ERR_NULL_POINTER, memory_null_out},
    {"engine from memory: NULL embedder", FG_ERR_NULL_POINTER, memory_null_embedder},
    {"vault create: NULL dir", FG_ERR_NULL_POINTER, create_null_dir},
    {"vault create: NULL key", FG_ERR_NULL_POINTER, create_null_key},
    {"vault create: NULL out", FG_ERR_NULL_POINTER, create_null_out},
    {"enroll: NULL vault", FG_ERR_NULL_POINTER, enroll_null_vault},
    {"enroll: NULL engine", FG_ERR_NULL_POINTER, enroll_null_engine},
    {"enroll: NULL image", FG_ERR_NULL_POINTER, enroll_null_image},
    {"identify: NULL vault", FG_ERR_NULL_POINTER, identify_null_vault},
    {"identify: NULL engine", FG_ERR_NULL_POINTER, identify_null_engine},
    {"identify: NULL image", FG_ERR_NULL_POINTER, identify_null_image},
    {"identify: NULL face", FG_ERR_NULL_POINTER, identify_null_face},
    {"identify: NULL purpose", FG_ERR_NULL_POINTER, identify_null_purpose},
    {"identify: NULL count", FG_ERR_NULL_POINTER, identify_null_count},
    {"identify: huge capacity", FG_ERR_INVALID_ARGUMENT, identify_huge_capacity},
    {"verify: NULL vault", FG_ERR_NULL_POINTER, verify_null_vault},
    {"verify: NULL engine", FG_ERR_NULL_POINTER, verify_null_engine},
    {"verify: NULL image", FG_ERR_NULL_POINTER, verify_null_image},
    {"verify: NULL face", FG_ERR_NULL_POINTER, verify_null_face},
    {"verify: NULL purpose", FG_ERR_NULL_POINTER, verify_null_purpose},
    {"verify: NULL notice", FG_ERR_NULL_POINTER, verify_null_notice},
    {"verify: NULL subject", FG_ERR_NULL_POINTER, verify_null_subject},
    {"revoke: NULL vault", FG_ERR_NULL_POINTER, revoke_null_vault},
    {"revoke subject: NULL vault", FG_ERR_NULL_POINTER, revoke_subject_null_vault},
    {"revoke subject: NULL subject", FG_ERR_NULL_POINTER, revoke_subject_null_subject},
    {"revoke subject: NULL out", FG_ERR_NULL_POINTER, revoke_subject_null_out},
    {"subject count: NULL vault", FG_ERR_NULL_POINTER, count_null_vault},
    {"sweep: NULL vault", FG_ERR_NULL_POINTER, sweep_null_vault},
    {"sweep: NULL out", FG_ERR_NULL_POINTER, sweep_null_out},
    {"audit verify: NULL vault", FG_ERR_NULL_POINTER, audit_verify_null_vault},
    {"audit verify: NULL out", FG_ERR_NULL_POINTER, audit_verify_null_out},
    {"audit export: NULL vault", FG_ERR_NULL_POINTER, export_null_vault},
    {"audit export: NULL buffer", FG_ERR_NULL_POINTER, export_null_buffer},
    {"audit export: NULL length", FG_ERR_NULL_POINTER, export_null_length},
    {"audit export: zero capacity", FG_ERR_INVALID_ARGUMENT, export_zero_capacity},
    {"audit export length: NULL vault", FG_ERR_NULL_POINTER, export_length_null_vault},
    {"rotate key: NULL vault", FG_ERR_NULL_POINTER, rotate_null_vault},
    {"rotate key: NULL key", FG_ERR_NULL_POINTER, rotate_null_key},
    {"rotate key: a new key (last: the vault is under it from here on)", FG_OK, rotate_new_key},
};

int main(int argc, char **argv) {
    if (argc != 8) {
        fprintf(stderr, "usage: %s MODELS_DIR FRAME.nv12 W H Y_STRIDE UV_STRIDE SCRATCH_DIR\n",
                argv[0]);
        return 2;
    }
    snprintf(detector, sizeof detector, "%s/face_detection_yunet_2023mar.onnx", argv[1]);
    snprintf(embedder, sizeof embedder, "%s/fr_feature.onnx", argv[1]);
    snprintf(models_dir, sizeof models_dir, "%s", argv[1]);
    snprintf(liveness_json_path, sizeof liveness_json_path, "%s/liveness.json", argv[1]);
    if (!read_liveness_files()) {
        fprintf(stderr, "cannot read the model files %s lists\n", liveness_json_path);
        return 1;
    }
    snprintf(vault_dir, sizeof vault_dir, "%s/vault", argv[7]);
    snprintf(scratch, sizeof scratch, "%s/tampered", argv[7]);
    snprintf(copy_dir, sizeof copy_dir, "%s/copy", argv[7]);
    snprintf(counted_dir, sizeof counted_dir, "%s/counted", argv[7]);
    snprintf(counted_copy, sizeof counted_copy, "%s/counted-copy", argv[7]);
    uint32_t w = (uint32_t)atoi(argv[3]), h = (uint32_t)atoi(argv[4]);
    size_t ys = (size_t)atol(argv[5]), uvs = (size_t)atol(argv[6]);
    FILE *in = fopen(argv[2], "rb");
    uint8_t *pixels = malloc(ys * h + uvs * h / 2);
    if (!in || !pixels || fread(pixels, 1, ys * h + uvs * h / 2, in) != ys * h + uvs * h / 2) {
        fprintf(stderr, "cannot read %s\n", argv[2]);
        return 1;
    }
    fclose(in);
    frame = (fg_image){.struct_size = sizeof(fg_image), .format = FG_PIXEL_NV12, .width = w,
                       .height = h,
                       .planes = {pixels, pixels + ys * h, NULL},
                       .plane_len = {ys * h, uvs * h / 2, 0},
                       .stride = {ys, uvs, 0}};
    /* Two copies of the frame side by side (NV12: Y rows, then interleaved UV rows). */
    size_t pys = 2 * (size_t)w, puvs = 2 * (size_t)w;
    uint8_t *pair_pixels = malloc(pys * h + puvs * h / 2);
    if (!pair_pixels) {
        fprintf(stderr, "out of memory\n");
        return 1;
    }
    for (uint32_t r = 0; r < h; r++)
        for (int copy = 0; copy < 2; copy++)
            memcpy(pair_pixels + r * pys + copy * w, pixels + r * ys, w);
    for (uint32_t r = 0; r < h / 2; r++)
        for (int copy = 0; copy < 2; copy++)
            memcpy(pair_pixels + pys * h + r * puvs + copy * w, pixels + ys * h + r * uvs, w);
    pair = (fg_image){.struct_size = sizeof(fg_image), .format = FG_PIXEL_NV12,
                      .width = 2 * w, .height = h,
                      .planes = {pair_pixels, pair_pixels + pys * h, NULL},
                      .plane_len = {pys * h, puvs * h / 2, 0},
                      .stride = {pys, puvs, 0}};
    for (int i = 0; i < 32; i++)
        key[i] = (uint8_t)(i * 7 + 1);

    /* The setup every row relies on: the library is this header's version; every message it
     * logs is checked; an engine, a vault, one person enrolled. */
    fg_status s;
    if ((s = FG_VERSION_CHECK()) != FG_OK) {
        fprintf(stderr, "faceguard %s: %s\n", fg_version(), fg_status_str(s));
        return 1;
    }
    if ((s = fg_set_log_callback(on_log, &log_seen, FG_LOG_DEBUG)) != FG_OK) {
        fprintf(stderr, "log callback: %s\n", fg_status_str(s));
        return 1;
    }
    face.struct_size = sizeof face;
    faces[0].struct_size = sizeof faces[0];
    candidates[0].struct_size = sizeof candidates[0];
    decision.struct_size = sizeof decision;
    if ((s = fg_engine_new(detector, embedder, &engine)) != FG_OK ||
        (s = fg_detect(engine, &frame, &face, 1, &count)) != FG_OK || count != 1 ||
        (s = fg_vault_create(vault_dir, key, 32, &vault)) != FG_OK ||
        (s = fg_vault_grant(vault, "door-access", "badge-1", NOTICE, 3600, &consent, &handle)) !=
            FG_OK ||
        (s = fg_vault_enroll(vault, engine, &frame, &face, &handle)) != FG_OK) {
        fprintf(stderr, "setup failed: %s\n", fg_status_str(s));
        return 1;
    }

    int failures = 0;
    for (size_t i = 0; i < sizeof ROWS / sizeof ROWS[0]; i++) {
        new_engine = NULL;
        new_vault = NULL;
        fg_status got = ROWS[i].run();
        int ok = got == ROWS[i].expected;
        failures += !ok;
        printf("%s %-42s %s%s%s\n", ok ? "ok  " : "FAIL", ROWS[i].name, fg_status_str(got),
               ok ? "" : ", expected ", ok ? "" : fg_status_str(ROWS[i].expected));
        /* A failed call writes no out-parameter: no handle may have been made. */
        if (got != FG_OK && (new_engine || new_vault)) {
            printf("FAIL %s: an out-parameter was written on failure\n", ROWS[i].name);
            failures++;
        }
        fg_engine_free(new_engine);
        fg_vault_free(new_vault);
    }
    /* Every status has its own message, and none of them is the one for unknown codes. */
    const fg_status all[] = {FG_OK, FG_ERR_NULL_POINTER, FG_ERR_INVALID_ARGUMENT,
                             FG_ERR_BUFFER_TOO_SMALL, FG_ERR_VERSION, FG_ERR_IMAGE, FG_ERR_MODEL,
                             FG_ERR_INFERENCE, FG_ERR_FACE_TOO_SMALL, FG_ERR_FACE_BLURRED,
                             FG_ERR_FACE_EXPOSURE, FG_ERR_FACE_POSE, FG_ERR_UNCALIBRATED,
                             FG_ERR_NO_EMBEDDER, FG_ERR_CONSENT_REVOKED, FG_ERR_CONSENT_EXPIRED,
                             FG_ERR_CONSENT_UNKNOWN, FG_ERR_PURPOSE_MISMATCH,
                             FG_ERR_UNKNOWN_SUBJECT, FG_ERR_CONSENT_INVALID,
                             FG_ERR_MODEL_MISMATCH, FG_ERR_CLOCK_BEHIND, FG_ERR_WRONG_KEY,
                             FG_ERR_TAMPERED, FG_ERR_PRESENTATION_ATTACK, FG_ERR_NO_LIVENESS, FG_ERR_NO_COLOUR,
                             FG_ERR_CORRUPT, FG_ERR_ROLLED_BACK, FG_ERR_NO_VAULT, FG_ERR_IO,
                             FG_ERR_VAULT_POISONED, FG_ERR_VAULT_BUSY, FG_ERR_VAULT_EXISTS,
                             FG_ERR_COUNTER, FG_ERR_INTERNAL};
    const size_t n_all = sizeof all / sizeof all[0];
    for (size_t i = 0; i < n_all; i++) {
        const char *message = fg_status_str(all[i]);
        if (!message || !message[0] || strstr(message, "unknown status")) {
            printf("FAIL status %d has no message of its own\n", (int)all[i]);
            failures++;
        }
        for (size_t j = 0; message && j < i; j++)
            if (strcmp(message, fg_status_str(all[j])) == 0) {
                printf("FAIL statuses %d and %d share a message\n", (int)all[j], (int)all[i]);
                failures++;
            }
    }
    fg_vault_free(vault);
    fg_engine_free(engine);
    free(pixels);
    free(pair_pixels);
    /* The log: messages of every level arrived, and not one named a person. */
    fg_set_log_callback(NULL, NULL, 0);
    for (int level = FG_LOG_ERROR; level <= FG_LOG_DEBUG; level++)
        if (log_seen.by_level[level] == 0) {
            printf("FAIL no log message at level %d\n", level);
            failures++;
        }
    if (log_seen.leaks) {
        printf("FAIL %zu log messages named a subject, e.g. \"%s\"\n", log_seen.leaks,
               log_seen.leak);
        failures++;
    }
    printf("%zu log messages, none naming a subject\n", log_seen.messages);
    printf("%zu rows, %d failures\n", sizeof ROWS / sizeof ROWS[0], failures);
    return failures == 0 ? 0 : 1;
}
