/* The FANN side of bench/compare.py (Debian's libfann-dev, float build).
 *
 *   gcc -O2 -o fann_bench bench/fann_bench.c -lfloatfann -lm
 *   fann_bench Ia CALLS REPEATS      8-64-64-4 tanh, one sample per fann_run: ns per call
 *   fann_bench T STEPS REPEATS       1-32-32-1 tanh on 1000 points of sin x, full-batch
 *                                    (FANN_TRAIN_BATCH) epochs: steps per second
 *
 * Prints one JSON object, as mlp-bench does. FANN's hidden "sigmoid
 * symmetric" with steepness 1 is tanh; outputs are linear. Weights are
 * FANN's own random ones (the timing does not depend on them). */
#include <floatfann.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

static double now(void) {
    struct timespec t;
    clock_gettime(CLOCK_MONOTONIC, &t);
    return t.tv_sec + t.tv_nsec * 1e-9;
}

static struct fann *make(unsigned a, unsigned b, unsigned c, unsigned d) {
    struct fann *ann = fann_create_standard(4, a, b, c, d);
    fann_set_activation_function_hidden(ann, FANN_SIGMOID_SYMMETRIC);
    fann_set_activation_steepness_hidden(ann, 1.0f);
    fann_set_activation_function_output(ann, FANN_LINEAR);
    srand(1);
    fann_randomize_weights(ann, -0.3f, 0.3f);
    return ann;
}

int main(int argc, char **argv) {
    if (argc != 4) {
        fprintf(stderr, "usage: fann_bench Ia|T COUNT REPEATS\n");
        return 2;
    }
    long count = atol(argv[2]);
    int repeats = atoi(argv[3]);
    printf("{\"values\": [");
    if (strcmp(argv[1], "Ia") == 0) {
        struct fann *ann = make(8, 64, 64, 4);
        fann_type inputs[64][8];
        for (int s = 0; s < 64; s++)
            for (int k = 0; k < 8; k++) inputs[s][k] = (fann_type)((s * 8 + k) % 17) / 17.0f;
        for (int r = 0; r < repeats; r++) {
            volatile fann_type sink = 0;
            double t = now();
            for (long c = 0; c < count; c++) sink += fann_run(ann, inputs[c % 64])[0];
            printf("%s%.3f", r ? ", " : "", (now() - t) / count * 1e9);
        }
        fann_destroy(ann);
    } else if (strcmp(argv[1], "T") == 0) {
        struct fann *ann = make(1, 32, 32, 1);
        fann_set_training_algorithm(ann, FANN_TRAIN_BATCH);
        fann_set_learning_rate(ann, 1e-4f);
        struct fann_train_data *data = fann_create_train(1000, 1, 1);
        for (int k = 0; k < 1000; k++) {
            double x = -M_PI + 2 * M_PI * k / 999.0;
            data->input[k][0] = (fann_type)x;
            data->output[k][0] = (fann_type)sin(x);
        }
        for (int r = 0; r < repeats; r++) {
            double t = now();
            for (long s = 0; s < count; s++) fann_train_epoch(ann, data);
            printf("%s%.3f", r ? ", " : "", count / (now() - t));
        }
        fann_destroy_train(data);
        fann_destroy(ann);
    } else {
        fprintf(stderr, "unknown workload %s\n", argv[1]);
        return 2;
    }
    printf("]}\n");
    return 0;
}
