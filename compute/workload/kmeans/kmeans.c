/* kmeans: the compute market's second reference job, in C (built with
 * clang --target=wasm32-wasi for the sandbox, and natively as the
 * baseline). It clusters the 8x8 digits (a CSV of 64 pixels and a class per
 * row) with k-means: k-means++ seeding from a splitmix64 stream, Lloyd
 * iterations until no sample changes cluster (or -iters), the best of
 * -restarts runs by inertia. Each cluster is then named by its majority
 * class, and the purity (samples whose cluster's class is theirs) measures
 * how well unsupervised clusters recover the digits.
 *
 * The distances, the bulk of the work, are matrix products on the SDK's
 * tensor kernels (tenun.h), which run at native speed in the sandbox.
 *
 * Deterministic by construction: integer pixels, sums in index order,
 * only +, -, *, / and comparisons on doubles (built with -ffp-contract=off
 * so nothing is fused), no libm, no clock, output printed with %.17g.
 *
 * Usage: kmeans [-data digits.csv] [-k 10] [-iters 100] [-restarts 8] [-seed 1]
 * Reads /in/DATA, writes /out/model.json and /out/metrics.json. */
#include "tenun.h"

#define DIM 64
#define MAXK 64
#define CLASSES 10

typedef struct {
  int n;
  double *x;  /* n x DIM */
  int *label; /* n */
} dataset;

static uint64_t rng_state;
static uint64_t next(void) {
  uint64_t z = (rng_state += 0x9e3779b97f4a7c15ULL);
  z = (z ^ (z >> 30)) * 0xbf58476d1ce4e5b9ULL;
  z = (z ^ (z >> 27)) * 0x94d049bb133111ebULL;
  return z ^ (z >> 31);
}
/* uniform in [0, 1) with 53 bits */
static double uniform(void) { return (double)(next() >> 11) * (1.0 / 9007199254740992.0); }

static int parse(char *text, size_t len, dataset *ds) {
  int rows = 0;
  for (size_t i = 0; i < len; i++) rows += text[i] == '\n';
  rows++;
  ds->x = malloc(sizeof(double) * DIM * rows);
  ds->label = malloc(sizeof(int) * rows);
  ds->n = 0;
  if (!ds->x || !ds->label) return -1;
  char *p = text, *end = text + len;
  while (p < end) {
    int field = 0, v = 0, digits = 0, vals[DIM + 1];
    for (; p < end && *p != '\n'; p++) {
      char c = *p;
      if (c >= '0' && c <= '9' && digits < 6) {
        v = v * 10 + (c - '0');
        digits++;
      } else if (c == ',' && digits && field < DIM) {
        vals[field++] = v;
        v = digits = 0;
      } else if (c != '\r' && c != ' ') {
        return -1;
      }
    }
    p++;
    if (field == 0 && digits == 0) continue; /* empty line */
    if (field != DIM || !digits) return -1;
    vals[DIM] = v;
    for (int d = 0; d < DIM; d++) {
      if (vals[d] > 16) return -1;
      ds->x[ds->n * DIM + d] = (double)vals[d];
    }
    if (vals[DIM] >= CLASSES) return -1;
    ds->label[ds->n++] = vals[DIM];
  }
  return ds->n > 0 ? 0 : -1;
}

/* The distances of the samples to the centres come from the tensor kernels
 * (host functions in the sandbox, the SDK's C natively): |x - c|^2 is
 * |x|^2 - 2 x.c + |c|^2, so one matrix product per pass does the work of
 * n*k distance loops. xx holds each sample's |x|^2, computed once. */
static void norms(int n, const double *x, double *out) {
  for (int i = 0; i < n; i++) tenun_matmul(TENUN_TRANS_B, 1, 1, DIM, 1.0, x + i * DIM, x + i * DIM, out + i);
}

/* d (n x k) = the squared distance of every sample to every centre */
static void distances(const dataset *ds, const double *xx, int k, const double *cent, double *cc, double *d) {
  norms(k, cent, cc);
  tenun_matmul(TENUN_TRANS_B, ds->n, k, DIM, -2.0, ds->x, cent, d);
  tenun_add_row(ds->n, k, cc, d);
  for (int i = 0; i < ds->n; i++)
    for (int c = 0; c < k; c++) d[i * k + c] += xx[i];
}

/* one k-means run from the current random stream; returns its inertia */
static double run(const dataset *ds, const double *xx, int k, int iters, double *cent, int *assign, int *used_iters,
                  double *mind, double *d) {
  int n = ds->n;
  static double cc[MAXK];
  /* k-means++: the first centre uniformly, each next one with probability
   * proportional to the squared distance to the nearest centre so far */
  int first = (int)(next() % (uint64_t)n);
  memcpy(cent, ds->x + first * DIM, sizeof(double) * DIM);
  distances(ds, xx, 1, cent, cc, mind);
  for (int c = 1; c < k; c++) {
    double total = tenun_sum(n, mind);
    double r = uniform() * total, acc = 0;
    int pick = n - 1;
    for (int i = 0; i < n; i++) {
      acc += mind[i];
      if (acc > r) {
        pick = i;
        break;
      }
    }
    memcpy(cent + c * DIM, ds->x + pick * DIM, sizeof(double) * DIM);
    distances(ds, xx, 1, cent + c * DIM, cc, d);
    for (int i = 0; i < n; i++)
      if (d[i] < mind[i]) mind[i] = d[i];
  }
  for (int i = 0; i < n; i++) assign[i] = -1;
  static double sum[MAXK * DIM];
  static int count[MAXK];
  int it = 0;
  for (; it < iters; it++) {
    int changed = 0;
    distances(ds, xx, k, cent, cc, d);
    for (int i = 0; i < n; i++) {
      const double *di = d + i * k;
      int best = 0;
      for (int c = 1; c < k; c++)
        if (di[c] < di[best]) best = c;
      mind[i] = di[best];
      if (assign[i] != best) {
        assign[i] = best;
        changed++;
      }
    }
    if (!changed) break;
    memset(sum, 0, sizeof(double) * k * DIM);
    memset(count, 0, sizeof(int) * k);
    for (int i = 0; i < n; i++) {
      int c = assign[i];
      count[c]++;
      for (int j = 0; j < DIM; j++) sum[c * DIM + j] += ds->x[i * DIM + j];
    }
    for (int c = 0; c < k; c++)
      if (count[c]) /* an empty cluster keeps its centre */
        tenun_scale(DIM, 1.0 / count[c], sum + c * DIM, cent + c * DIM);
    if ((it & 7) == 7) tenun_progress(it + 1, iters);
  }
  *used_iters = it;
  return tenun_sum(n, mind);
}

static void put_double(FILE *f, double v) { fprintf(f, "%.17g", v); }

int main(int argc, char **argv) {
  const char *data = "digits.csv";
  int k = 10, iters = 100, restarts = 8;
  uint64_t seed = 1;
  for (int i = 1; i + 1 < argc; i += 2) {
    if (!strcmp(argv[i], "-data")) data = argv[i + 1];
    else if (!strcmp(argv[i], "-k")) k = atoi(argv[i + 1]);
    else if (!strcmp(argv[i], "-iters")) iters = atoi(argv[i + 1]);
    else if (!strcmp(argv[i], "-restarts")) restarts = atoi(argv[i + 1]);
    else if (!strcmp(argv[i], "-seed")) seed = strtoull(argv[i + 1], NULL, 10);
    else {
      fprintf(stderr, "kmeans: unknown flag %s\n", argv[i]);
      return 2;
    }
  }
  if (k < 1 || k > MAXK || iters < 1 || restarts < 1) {
    fprintf(stderr, "kmeans: need 1 <= k <= %d, iters >= 1, restarts >= 1\n", MAXK);
    return 2;
  }
  size_t len;
  char *text = tenun_input(data, &len);
  dataset ds;
  if (!text) {
    fprintf(stderr, "kmeans: cannot read input %s\n", data);
    return 1;
  }
  if (parse(text, len, &ds) != 0) {
    fprintf(stderr, "kmeans: %s is not a CSV of 64 pixels (0..16) and a class (0..9) per row\n", data);
    return 1;
  }
  if (ds.n < k) {
    fprintf(stderr, "kmeans: %d samples for %d clusters\n", ds.n, k);
    return 1;
  }
  rng_state = seed;
  double *cent = malloc(sizeof(double) * k * DIM), *best_cent = malloc(sizeof(double) * k * DIM);
  int *assign = malloc(sizeof(int) * ds.n), *best_assign = malloc(sizeof(int) * ds.n);
  double *mind = malloc(sizeof(double) * ds.n), *xx = malloc(sizeof(double) * ds.n);
  double *d = malloc(sizeof(double) * ds.n * k);
  if (!cent || !best_cent || !assign || !best_assign || !mind || !xx || !d) {
    fprintf(stderr, "kmeans: out of memory\n");
    return 1;
  }
  norms(ds.n, ds.x, xx);
  double best = -1;
  int best_iters = 0, best_run = 0;
  for (int r = 0; r < restarts; r++) {
    int used;
    double inertia = run(&ds, xx, k, iters, cent, assign, &used, mind, d);
    if (best < 0 || inertia < best) {
      best = inertia;
      best_iters = used;
      best_run = r;
      memcpy(best_cent, cent, sizeof(double) * k * DIM);
      memcpy(best_assign, assign, sizeof(int) * ds.n);
    }
  }
  /* name each cluster by its majority class (the smallest on ties) */
  static int votes[MAXK][CLASSES];
  int cls[MAXK], correct = 0;
  for (int i = 0; i < ds.n; i++) votes[best_assign[i]][ds.label[i]]++;
  for (int c = 0; c < k; c++) {
    cls[c] = 0;
    for (int l = 1; l < CLASSES; l++)
      if (votes[c][l] > votes[c][cls[c]]) cls[c] = l;
  }
  for (int i = 0; i < ds.n; i++) correct += cls[best_assign[i]] == ds.label[i];

  char path[4096];
  snprintf(path, sizeof path, "%s/model.json", tenun_dir("TENUN_OUT", "/out"));
  FILE *f = fopen(path, "w");
  if (!f) return 1;
  fprintf(f, "{\n  \"format\": \"tenun-kmeans/v1\",\n  \"dim\": %d,\n  \"k\": %d,\n  \"classes\": [", DIM, k);
  for (int c = 0; c < k; c++) fprintf(f, "%s%d", c ? "," : "", cls[c]);
  fprintf(f, "],\n  \"centroids\": [");
  for (int i = 0; i < k * DIM; i++) {
    if (i) fputc(',', f);
    put_double(f, best_cent[i]);
  }
  fprintf(f, "]\n}\n");
  if (fclose(f)) return 1;
  snprintf(path, sizeof path, "%s/metrics.json", tenun_dir("TENUN_OUT", "/out"));
  f = fopen(path, "w");
  if (!f) return 1;
  fprintf(f, "{\n  \"format\": \"tenun-kmeans-metrics/v1\",\n  \"samples\": %d,\n  \"k\": %d,\n  \"restarts\": %d,\n  \"seed\": %llu,\n",
          ds.n, k, restarts, (unsigned long long)seed);
  fprintf(f, "  \"best_restart\": %d,\n  \"iterations\": %d,\n  \"inertia\": ", best_run, best_iters);
  put_double(f, best);
  fprintf(f, ",\n  \"purity\": ");
  put_double(f, (double)correct / ds.n);
  fprintf(f, "\n}\n");
  if (fclose(f)) return 1;
  printf("k-means: %d clusters of %d samples, inertia %.6g, purity %.4f\n", k, ds.n, best, (double)correct / ds.n);
  return 0;
}
