/*
 * camera_loop.c: what camera firmware does with faceguard, in C.
 *
 *   camera_loop MODELS_DIR FRAMES_DIR VAULT_DIR [MIN_PERCENT]
 *
 * MODELS_DIR holds face_detection_yunet_2023mar.onnx, fr_feature.onnx, liveness.json and the
 * presentation-attack models it names (scripts/fetch-models.sh); FRAMES_DIR holds NV12 frames
 * and frames.txt ("file width height y_stride uv_stride identity" per line, as written by
 * `cargo run --example nv12_frames`; identity "spoof" marks a printed photo or a screen held up
 * to the camera); VAULT_DIR is created.
 *
 * The loop: check that the library is this header's version and send its warnings to stderr;
 * load the models; open an encrypted vault under a key from the "secure element";
 * for each person's first frame good enough to enrol (fg_face_quality says what to fix
 * otherwise, fg_liveness whether it is a live face), take their consent and enrol the largest
 * face; identify the largest face of every other frame (a capture too poor to decide,
 * FG_ERR_FACE_*, is "try again": neither a match nor a miss; a photo or a screen is refused,
 * FG_ERR_PRESENTATION_ATTACK, and the vault records the attack); honour a deletion request
 * (revocation, then compaction: the template's bytes leave the vault's files); verify the
 * audit log; shut down cleanly. Exit status 0 if every step succeeded, every spoof was
 * refused, and at least MIN_PERCENT (default 90) of the probes that passed the liveness check
 * were identified correctly.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "faceguard.h"

#define MAX_FRAMES 256

static const char *PURPOSE = "door-access";
static const char *ENROL_NOTICE =
    "Door access by face: your face template is kept encrypted on this camera for 90 days, "
    "used only to open this door, and deleted when you ask.";
static const char *DOOR_NOTICE =
    "Face check for door access: your face is compared with enrolled staff and discarded.";

struct frame {
    char file[64];
    uint32_t width, height;
    size_t y_stride, uv_stride;
    char identity[FG_SUBJECT_MAX + 1];
};

/* Stops on a failed call, naming it and the status. */
#define CHECK(call)                                                                         \
    do {                                                                                    \
        fg_status s_ = (call);                                                              \
        if (s_ != FG_OK) {                                                                  \
            fprintf(stderr, "%s:%d: %s: %s (%d)\n", __FILE__, __LINE__, #call,              \
                    fg_status_str(s_), (int)s_);                                            \
            goto fail;                                                                      \
        }                                                                                   \
    } while (0)

/* Reads one NV12 frame into a new buffer and describes it. */
static uint8_t *load_frame(const char *dir, const struct frame *f, fg_image *image) {
    char path[1024];
    snprintf(path, sizeof path, "%s/%s", dir, f->file);
    FILE *in = fopen(path, "rb");
    if (!in) {
        perror(path);
        return NULL;
    }
    size_t y_len = f->y_stride * f->height, uv_len = f->uv_stride * (f->height / 2);
    uint8_t *data = malloc(y_len + uv_len);
    if (!data || fread(data, 1, y_len + uv_len, in) != y_len + uv_len) {
        fprintf(stderr, "%s: short frame\n", path);
        free(data);
        fclose(in);
        return NULL;
    }
    fclose(in);
    memset(image, 0, sizeof *image);
    image->struct_size = sizeof *image; /* every structure carries its size */
    image->format = FG_PIXEL_NV12;
    image->color = FG_COLOR_BT601_LIMITED; /* what the ISP delivers: see fg_color */
    image->width = f->width;
    image->height = f->height;
    image->planes[0] = data;
    image->plane_len[0] = y_len;
    image->stride[0] = f->y_stride;
    image->planes[1] = data + y_len;
    image->plane_len[1] = uv_len;
    image->stride[1] = f->uv_stride;
    return data;
}

/* The library's log, to stderr: what a status code cannot say (which file, which limit). */
static void log_to_stderr(int32_t level, const char *message, void *user_data) {
    (void)user_data;
    fprintf(stderr, "faceguard[%s]: %s\n", level == FG_LOG_ERROR ? "error" : "warn", message);
}

/* A capture too poor to decide on (small, blurred, badly lit, turned): try again. */
static int try_again(fg_status s) {
    return s == FG_ERR_FACE_TOO_SMALL || s == FG_ERR_FACE_BLURRED || s == FG_ERR_FACE_EXPOSURE ||
           s == FG_ERR_FACE_POSE;
}

/* The largest detected face, or -1. */
static int largest(const fg_face *faces, size_t n) {
    int best = -1;
    for (size_t i = 0; i < n; i++)
        if (best < 0 || faces[i].width * faces[i].height > faces[best].width * faces[best].height)
            best = (int)i;
    return best;
}

int main(int argc, char **argv) {
    if (argc != 4 && argc != 5) {
        fprintf(stderr, "usage: %s MODELS_DIR FRAMES_DIR VAULT_DIR [MIN_PERCENT]\n", argv[0]);
        return 2;
    }
    /* First: the library linked is the one this header describes. */
    fg_status version = FG_VERSION_CHECK();
    if (version != FG_OK) {
        fprintf(stderr, "faceguard %s: %s\n", fg_version(), fg_status_str(version));
        return 1;
    }
    fg_set_log_callback(log_to_stderr, NULL, FG_LOG_WARN);
    size_t min_percent = argc == 5 ? (size_t)atoi(argv[4]) : 90;
    const char *models = argv[1], *frames_dir = argv[2], *vault_dir = argv[3];
    fg_engine *engine = NULL;
    fg_vault *vault = NULL;
    uint8_t *pixels = NULL;
    static struct frame frames[MAX_FRAMES];
    size_t n_frames = 0;
    int exit_code = 1;

    /* The frame list. */
    char path[1024];
    snprintf(path, sizeof path, "%s/frames.txt", frames_dir);
    FILE *list = fopen(path, "r");
    if (!list) {
        perror(path);
        return 1;
    }
    while (n_frames < MAX_FRAMES) {
        struct frame *f = &frames[n_frames];
        if (fscanf(list, "%63s %u %u %zu %zu %128s", f->file, &f->width, &f->height,
                   &f->y_stride, &f->uv_stride, f->identity) != 6)
            break;
        n_frames++;
    }
    fclose(list);
    printf("faceguard %s: %zu NV12 frames\n", fg_version(), n_frames);

    /* Models, once. */
    char detector[1024], embedder[1024];
    snprintf(detector, sizeof detector, "%s/face_detection_yunet_2023mar.onnx", models);
    snprintf(embedder, sizeof embedder, "%s/fr_feature.onnx", models);
    CHECK(fg_engine_new(detector, embedder, &engine));

    /* The vault key comes from the secure element; a fixed one stands in for it here. */
    uint8_t key[32];
    for (int i = 0; i < 32; i++)
        key[i] = (uint8_t)(0xa5 ^ i);
    CHECK(fg_vault_create(vault_dir, key, sizeof key, &vault));
    memset(key, 0, sizeof key); /* the library keeps its own copy, wiped on close */

    fg_face faces[FG_MAX_FACES]; /* always room for every face fg_detect finds */
    faces[0].struct_size = sizeof faces[0]; /* an array's stride */
    size_t n_faces = 0;
    fg_image image;
    char first_person[FG_SUBJECT_MAX + 1] = "";
    char last_enrolled[FG_SUBJECT_MAX + 1] = "";
    size_t first_person_probe = SIZE_MAX;
    size_t enrolled = 0, probes = 0, right = 0, retries = 0, refused = 0;
    size_t spoofs = 0, spoofs_refused = 0;
    for (size_t i = 0; i < n_frames; i++) {
        const struct frame *f = &frames[i];
        pixels = load_frame(frames_dir, f, &image);
        if (!pixels)
            goto fail;
        CHECK(fg_detect(engine, &image, faces, FG_MAX_FACES, &n_faces));
        int face = largest(faces, n_faces);
        /* Frames come grouped by person: one not enrolled yet is at the enrolment desk. */
        int spoof = strcmp(f->identity, "spoof") == 0;
        int new_person = !spoof && strcmp(last_enrolled, f->identity) != 0;
        if (face < 0) {
            printf("  %s: no face\n", f->file);
        } else if (new_person) {
            /* First the photo: a poor one is retaken, and the measures say what to fix. */
            fg_quality q = {.struct_size = sizeof q};
            CHECK(fg_face_quality(engine, &image, &faces[face], &q));
            if (q.enrolment != FG_OK) {
                printf("  %s: retake the photo of %s: %s (eyes %.0f px apart, sharpness %.2f, "
                       "brightness %.0f, yaw %.2f)\n",
                       f->file, f->identity, fg_status_str(q.enrolment), q.eye_distance_px,
                       q.sharpness, q.brightness, q.yaw);
                free(pixels);
                pixels = NULL;
                continue;
            }
            /* A live face, not a photo of one: checked before asking for consent. */
            fg_liveness_result live = {.struct_size = sizeof live};
            CHECK(fg_liveness(engine, &image, &faces[face], &live));
            if (!live.is_live) {
                printf("  %s: not taken: liveness %.2f is below %.2f (a photo or a screen?)\n",
                       f->file, live.score, live.threshold);
                free(pixels);
                pixels = NULL;
                continue;
            }
            /* The person read the notice at the desk and agreed: consent, then enrolment. */
            uint64_t consent = 0;
            fg_consent_handle handle; /* needed to enrol under this consent; kept secret */
            CHECK(fg_vault_grant(vault, PURPOSE, f->identity, ENROL_NOTICE, 90 * 86400, &consent,
                                 &handle));
            CHECK(fg_vault_enroll(vault, engine, &image, &faces[face], &handle));
            memset(&handle, 0, sizeof handle);
            printf("  enrolled %-16s consent %llu from %s\n", f->identity,
                   (unsigned long long)consent, f->file);
            strcpy(last_enrolled, f->identity);
            if (enrolled++ == 0)
                strcpy(first_person, f->identity);
        } else {
            fg_candidate best[1] = {{.struct_size = sizeof best[0]}};
            size_t n = 0;
            fg_status s = fg_vault_identify(vault, engine, &image, &faces[face], PURPOSE,
                                            DOOR_NOTICE, best, 1, &n);
            if (s == FG_ERR_PRESENTATION_ATTACK || spoof) {
                /* A photo or a screen: the door stays shut, the vault has recorded it, and the
                 * person is pointed to the other way in. Say why. */
                fg_liveness_result live = {.struct_size = sizeof live};
                CHECK(fg_liveness(engine, &image, &faces[face], &live));
                printf("  %s: refused: %s (liveness %.2f < %.2f)%s\n", f->file,
                       s == FG_ERR_PRESENTATION_ATTACK ? "presentation attack" : "ATTACK PASSED",
                       live.score, live.threshold, spoof ? "" : " [a real person]");
                spoofs += spoof;
                spoofs_refused += spoof && s == FG_ERR_PRESENTATION_ATTACK;
                refused += !spoof && s == FG_ERR_PRESENTATION_ATTACK;
                free(pixels);
                pixels = NULL;
                continue;
            }
            if (try_again(s)) {
                /* Neither a match nor a miss: the door stays shut and asks for another look. */
                printf("  %s: try again: %s\n", f->file, fg_status_str(s));
                retries++;
                free(pixels);
                pixels = NULL;
                continue;
            }
            CHECK(s);
            const char *who = n > 0 && best[0].is_match ? best[0].subject : "(nobody)";
            int ok = strcmp(who, f->identity) == 0;
            right += ok;
            probes++;
            if (strcmp(f->identity, first_person) == 0)
                first_person_probe = i;
            printf("  %s %s -> %s (score %.3f)\n", ok ? "ok  " : "MISS", f->file, who,
                   n > 0 ? best[0].score : 0.0);
        }
        free(pixels);
        pixels = NULL;
    }
    size_t subjects = 0;
    CHECK(fg_vault_subject_count(vault, &subjects));
    printf("identified %zu/%zu (%zu to try again, %zu real faces refused as attacks); %zu "
           "subjects enrolled\n",
           right, probes, retries, refused, subjects);
    printf("presentation attacks refused: %zu/%zu\n", spoofs_refused, spoofs);
    if (first_person_probe == SIZE_MAX) {
        fprintf(stderr, "%s was never identified: nothing to check the deletion on\n",
                first_person);
        goto fail;
    }

    /* A deletion request: keys destroyed, templates erased; the person is not found again. */
    size_t revoked = 0;
    CHECK(fg_vault_revoke_subject(vault, first_person, &revoked));
    pixels = load_frame(frames_dir, &frames[first_person_probe], &image);
    if (!pixels)
        goto fail;
    CHECK(fg_detect(engine, &image, faces, FG_MAX_FACES, &n_faces));
    int face = largest(faces, n_faces);
    if (face >= 0) {
        fg_candidate best[1] = {{.struct_size = sizeof best[0]}};
        size_t n = 0;
        CHECK(fg_vault_identify(vault, engine, &image, &faces[face], PURPOSE, DOOR_NOTICE, best, 1,
                                &n));
        int still = n > 0 && best[0].is_match && strcmp(best[0].subject, first_person) == 0;
        printf("revoked %s (%zu consent): %s\n", first_person, revoked,
               still ? "STILL FOUND" : "no longer found");
        if (still)
            goto fail;
    }
    free(pixels);
    pixels = NULL;
    /* Then compaction takes the (now undecryptable) template bytes out of the files. */
    uint64_t purged = 0;
    CHECK(fg_vault_compact(vault, &purged));
    printf("compacted: %llu template%s purged from the files\n", (unsigned long long)purged,
           purged == 1 ? "" : "s");
    if (purged == 0)
        goto fail;

    uint64_t entries = 0;
    CHECK(fg_vault_audit_verify(vault, &entries));
    printf("audit log verified: %llu entries\n", (unsigned long long)entries);
    exit_code = right * 100 >= probes * min_percent && spoofs_refused == spoofs ? 0 : 1;

fail:
    free(pixels);
    fg_vault_free(vault);
    fg_engine_free(engine);
    return exit_code;
}
