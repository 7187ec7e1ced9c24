# Reference values from R's own packages (fpc::clusterboot, cluster::clusGap) for the
# rfmlab test suite to compare against. Reads tests/reference/inputs/*.csv (written by
# make_inputs.py) and writes tests/reference/values/*.json.
#
#   Rscript tests/reference/reference.R            # everything
#   Rscript tests/reference/reference.R gap dbscan # only some parts: kmeans subset dbscan gap
#
# set.seed(123) is called right before every clusterboot / clusGap call, so each entry can
# be regenerated on its own. Debian bookworm packages: r-base-core r-cran-fpc r-cran-cluster
# r-cran-dbscan r-cran-jsonlite.

suppressPackageStartupMessages({
  library(fpc)
  library(cluster)
  library(jsonlite)
})

script_dir <- local({
  f <- sub("^--file=", "", grep("^--file=", commandArgs(FALSE), value = TRUE))
  if (length(f) == 1) dirname(normalizePath(f)) else normalizePath("tests/reference")
})
in_dir <- file.path(script_dir, "inputs")
out_dir <- file.path(script_dir, "values")
dir.create(out_dir, showWarnings = FALSE)

parts <- commandArgs(TRUE)
if (length(parts) == 0) parts <- c("kmeans", "subset", "dbscan", "gap")

SEED <- 123

read_input <- function(name) {
  x <- as.matrix(read.csv(file.path(in_dir, paste0(name, ".csv"))))
  storage.mode(x) <- "double"
  x
}

versions <- list(
  R = paste(R.version$major, R.version$minor, sep = "."),
  R_string = R.version.string,
  fpc = as.character(packageVersion("fpc")),
  cluster = as.character(packageVersion("cluster")),
  dbscan = as.character(packageVersion("dbscan")),
  jsonlite = as.character(packageVersion("jsonlite")),
  RNGkind = RNGkind()
)

write_json_file <- function(obj, name) {
  obj <- c(list(generated = format(Sys.time(), "%Y-%m-%d %H:%M:%S %Z"), versions = versions), obj)
  path <- file.path(out_dir, paste0(name, ".json"))
  writeLines(toJSON(obj, auto_unbox = TRUE, pretty = TRUE, digits = NA, null = "null"), path)
  cat("wrote", path, "\n")
}

vec <- function(x) I(as.numeric(x)) # keep length-1 vectors as JSON arrays

# ---------------------------------------------------------------- k-means clusterboot
kmeans_boot <- function(x, k, bootmethod, subtuning = NULL) {
  set.seed(SEED)
  t0 <- proc.time()[["elapsed"]]
  args <- list(data = x, B = 100, bootmethod = bootmethod, multipleboot = FALSE,
               clustermethod = kmeansCBI, krange = k, runs = 10, count = FALSE,
               showplots = FALSE)
  if (!is.null(subtuning)) args$subtuning <- subtuning
  cb <- do.call(clusterboot, args)
  el <- proc.time()[["elapsed"]] - t0
  # fpc stores the per-cluster mean Jaccard in cb$bootmean for bootmethod="boot" and in
  # cb$subsetmean for bootmethod="subset"; both are written as "bootmean" here.
  jm <- if (bootmethod == "boot") cb$bootmean else cb$subsetmean
  cat(sprintf("  k=%d %s: bootmean %s (%.1fs)\n", k, bootmethod,
              paste(sprintf("%.3f", jm), collapse = " "), el))
  out <- list(k = k, nc = cb$nc,
              sizes = vec(tabulate(cb$partition, nbins = cb$nc)),
              bootmean = vec(jm))
  if (bootmethod == "boot") {
    out$bootbrd <- vec(cb$bootbrd)
    out$bootrecover <- vec(cb$bootrecover)
  } else {
    out$subsetbrd <- vec(cb$subsetbrd)
    out$subsetrecover <- vec(cb$subsetrecover)
  }
  out
}

if ("kmeans" %in% parts) {
  res <- list()
  for (ds in c("uci_customers", "blobs")) {
    x <- read_input(ds)
    cat("clusterboot kmeansCBI boot:", ds, nrow(x), "x", ncol(x), "\n")
    res[[ds]] <- list(n = nrow(x), by_k = lapply(2:6, function(k) kmeans_boot(x, k, "boot")))
  }
  write_json_file(list(
    settings = list(function_ = "fpc::clusterboot", clustermethod = "kmeansCBI", krange = "k",
                    runs = 10, B = 100, bootmethod = "boot", multipleboot = FALSE,
                    count = FALSE, dissolution = 0.5, recover = 0.75, seed = SEED,
                    seed_note = "set.seed(123) right before each clusterboot call",
                    sizes_note = "cluster sizes of the k-means solution on the full data, in clusterboot's cluster order (same order as bootmean)"),
    results = res), "clusterboot_kmeans")
}

if ("subset" %in% parts) {
  x <- read_input("uci_customers")
  st <- floor(nrow(x) / 2)
  cat("clusterboot kmeansCBI subset: uci_customers, subtuning", st, "\n")
  res <- list(uci_customers = list(n = nrow(x), subtuning = st,
                                   by_k = lapply(2:6, function(k) kmeans_boot(x, k, "subset", st))))
  write_json_file(list(
    settings = list(function_ = "fpc::clusterboot", clustermethod = "kmeansCBI", krange = "k",
                    runs = 10, B = 100, bootmethod = "subset", subtuning = "floor(n/2)",
                    multipleboot = FALSE, count = FALSE, seed = SEED,
                    seed_note = "set.seed(123) right before each clusterboot call",
                    bootmean_note = "per-cluster mean Jaccard over the B subsets: fpc's cb$subsetmean (fpc leaves cb$bootmean empty for bootmethod='subset'); subsetbrd = times dissolved"),
    results = res), "clusterboot_kmeans_subset")
}

# ---------------------------------------------------------------- DBSCAN clusterboot
# clusterboot's noisemethod (default FALSE) decides how the noise entry is compared:
#  FALSE: noise is one more cluster; every entry, noise included, is matched to its best
#         Jaccard among ALL resample clusters, resample noise included. (The brief's setting.)
#  TRUE:  real clusters are matched only against the resample's real clusters, and the
#         noise entry only against the resample's noise. Closer to rfmlab's rule ("noise
#         in a resample matches nothing"). Stored as a second variant.
dbscan_boot <- function(x, noisemethod) {
  set.seed(SEED)
  t0 <- proc.time()[["elapsed"]]
  cb <- clusterboot(x, B = 100, bootmethod = "boot", multipleboot = FALSE,
                    clustermethod = dbscanCBI, eps = 0.3, MinPts = 10, method = "hybrid",
                    noisemethod = noisemethod, count = FALSE, showplots = FALSE)
  el <- proc.time()[["elapsed"]] - t0
  # clusterboot overwrites cb$result$nccl with nc when noisemethod=FALSE: take the number of
  # real clusters from the DBSCAN labels themselves (0 = noise).
  nccl <- max(cb$result$result$cluster)
  has_noise <- cb$nc > nccl
  labels <- c(paste0("cluster ", seq_len(nccl)), if (has_noise) "noise")
  cat(sprintf("  noisemethod=%s: nc=%d nccl=%d bootmean %s (%.1fs)\n", noisemethod, cb$nc, nccl,
              paste(sprintf("%.3f", cb$bootmean), collapse = " "), el))
  list(n = nrow(x), noisemethod = noisemethod, nc = cb$nc, nccl = nccl, has_noise = has_noise,
       noise_entry = if (has_noise) cb$nc else NULL,
       noise_entry_note = "1-based position of the noise entry in bootmean/sizes (the last one), null if no noise",
       labels = I(labels),
       sizes = vec(tabulate(cb$partition, nbins = cb$nc)),
       bootmean = vec(cb$bootmean),
       bootbrd = vec(cb$bootbrd),
       bootrecover = vec(cb$bootrecover))
}

if ("dbscan" %in% parts) {
  x <- read_input("uci_customers")
  cat("clusterboot dbscanCBI: uci_customers\n")
  write_json_file(list(
    settings = list(function_ = "fpc::clusterboot", clustermethod = "dbscanCBI", eps = 0.3,
                    MinPts = 10, method = "hybrid", B = 100, bootmethod = "boot",
                    multipleboot = FALSE, count = FALSE, seed = SEED,
                    seed_note = "set.seed(123) right before each clusterboot call",
                    MinPts_note = "MinPts stays 10 in every resample (clusterboot does not rescale it)",
                    noise_note = paste("fpc's dbscanCBI recodes DBSCAN noise (label 0) as one extra",
                                       "cluster nccl+1, the last entry of bootmean/sizes."),
                    variants = paste("uci_customers: noisemethod=FALSE (clusterboot default; noise is an",
                                     "ordinary cluster, every entry matched against all resample clusters",
                                     "incl. noise). uci_customers_noisemethod: noisemethod=TRUE (real",
                                     "clusters matched only to real resample clusters, noise only to noise).")),
    results = list(uci_customers = dbscan_boot(x, FALSE),
                   uci_customers_noisemethod = dbscan_boot(x, TRUE))), "clusterboot_dbscan")
}

# ---------------------------------------------------------------- gap statistic
km_fun <- function(x, k) list(cluster = kmeans(x, k, nstart = 10, iter.max = 100)$cluster)

if ("gap" %in% parts) {
  res <- list()
  for (ds in c("uci_customers", "blobs", "uniform")) {
    x <- read_input(ds)
    kmax <- if (ds == "uniform") 6 else 10
    set.seed(SEED)
    t0 <- proc.time()[["elapsed"]]
    warns <- character(0)
    g <- withCallingHandlers(
      clusGap(x, FUNcluster = km_fun, K.max = kmax, B = 50, d.power = 2,
              spaceH0 = "scaledPCA", verbose = FALSE),
      warning = function(w) { warns <<- c(warns, conditionMessage(w)); invokeRestart("muffleWarning") })
    if (length(warns)) cat("  R warnings:", paste(unique(warns), collapse = "; "), "x", length(warns), "\n")
    el <- proc.time()[["elapsed"]] - t0
    tab <- g$Tab
    pick_tib <- maxSE(tab[, "gap"], tab[, "SE.sim"], method = "Tibs2001SEmax", SE.factor = 1)
    pick_first <- maxSE(tab[, "gap"], tab[, "SE.sim"], method = "firstSEmax", SE.factor = 1)
    cat(sprintf("clusGap %s: Tibshirani %d, firstSEmax %d (%.1fs)\n", ds, pick_tib, pick_first, el))
    print(round(tab, 4))
    res[[ds]] <- list(n = nrow(x), K.max = kmax, k = vec(seq_len(kmax)),
                      logW = vec(tab[, "logW"]), E.logW = vec(tab[, "E.logW"]),
                      gap = vec(tab[, "gap"]), SE.sim = vec(tab[, "SE.sim"]),
                      pick_Tibs2001SEmax = pick_tib, pick_firstSEmax = pick_first,
                      kmeans_warnings = length(warns), kmeans_warning_messages = I(unique(warns)))
  }
  write_json_file(list(
    settings = list(function_ = "cluster::clusGap",
                    FUNcluster = "function(x,k) list(cluster=kmeans(x,k,nstart=10,iter.max=100)$cluster)",
                    K.max = "10 (uniform: 6)", B = 50, d.power = 2, spaceH0 = "scaledPCA",
                    pick = "cluster::maxSE(gap, SE.sim, method, SE.factor=1); Tibshirani et al. (2001) rule is method=\"Tibs2001SEmax\" (smallest k with gap[k] >= gap[k+1] - SE.sim[k+1])", seed = SEED,
                    seed_note = "set.seed(123) right before each clusGap call",
                    logW_note = paste("clusGap's W_k = 0.5 * sum over clusters r of (sum of squared pairwise distances in r)/n_r",
                                      "= 0.5 * within-cluster sum of squares (d.power=2); so logW = log(WSS) - log(2).",
                                      "The constant cancels in gap = E.logW - logW. k=1 is the whole data, no kmeans call.")),
    results = res), "clusgap")
}
