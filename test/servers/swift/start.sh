#!/usr/bin/env bash
# Starts a throwaway OpenStack Swift with the S3 API (s3api + tempauth) on 127.0.0.1, for tests.
#
#   start.sh <workdir> [port]      configure (first time) and start memcached and the account,
#                                  container, object and proxy servers; waits until a signed S3
#                                  request succeeds; prints the S3 endpoint URL as stdout's last line.
#   start.sh <workdir> --proxy     (re)start only the proxy of a configured workdir, on the same port
#                                  (fault tests: stop.sh <workdir> --kill proxy, then this).
#
# Everything lives in <workdir>: swift.conf, one *.conf per server, single-replica rings with one
# device, storage in the plain directory srv/d1 (mount_check = false; Swift keeps object metadata in
# user.* xattrs: fine on ext4 (this machine's /tmp) and xfs, on tmpfs only from Linux 6.6), logs (<name>.log) and `pids` ("name pid" lines, read
# by stop.sh). Nothing is written to /etc/swift and nothing there is used: Swift has no option or
# environment variable for the location of swift.conf (hash prefix, storage policies, constraints),
# so the launcher calls swift.common.utils.set_swift_dir(<workdir>) before the modules that read it
# are imported (swift.common.utils itself peeks at /etc/swift/swift.conf on import, tolerating its
# absence, and set_swift_dir discards what it found); every server config sets swift_dir =
# <workdir> (rings).
#
# Fast start (~2 s on an idle 2-core machine instead of ~6 s for four separate servers): one Python
# process writes the config, builds the rings with RingBuilder, imports Swift, monkey-patches and
# loads each server's WSGI pipeline once, then forks one child per server (each runs Swift's own
# run_wsgi with workers = 0, i.e. the server in that child). EVENTLET_NO_GREENDNS skips importing
# dnspython (only IP addresses are used).
#
# S3 credentials: access key `test:tester`, secret `testing` (tempauth, .admin); region us-east-1.
# Environment: SWIFT_WATCH_PID=<pid> stops everything once that process has exited (a crashed test
# run leaves no servers behind); SWIFT_LOG_LEVEL (default WARNING; INFO logs every request to
# proxy.log); SWIFT_START_TIMEOUT in seconds (default 120: starting takes ~2 s idle, but over 20 s
# on a busy 2-core machine).
set -euo pipefail

if [ $# -lt 1 ]; then
  echo "usage: $0 <workdir> [port|--proxy]" >&2
  exit 2
fi
W=$(realpath -m "$1")
MODE=all
PORT=
case "${2:-}" in
  --proxy) MODE=proxy ;;
  "") ;;
  *) PORT=$2 ;;
esac
PY=/usr/bin/python3
HERE=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)

if ! [ -x "$PY" ] || ! command -v memcached >/dev/null || ! command -v swift-proxy-server >/dev/null; then
  echo "swift: not installed; run test/servers/swift/install.sh" >&2
  exit 3
fi
if [ "$MODE" = proxy ] && [ ! -f "$W/proxy-server.conf" ]; then
  echo "swift: $W is not configured (run start.sh $W first)" >&2
  exit 2
fi
mkdir -p "$W"
touch "$W/pids"

# The watchdog: a tiny shell loop, recorded in pids like the servers.
if [ -n "${SWIFT_WATCH_PID:-}" ]; then
  old=$(awk '$1 == "watchdog" { print $2 }' "$W/pids")
  if [ -z "$old" ] || ! kill -0 "$old" 2>/dev/null; then
    # Waits while the process exists and is not a zombie (an unreaped parent is gone all the same).
    setsid bash -c 'while read -r _ _ st _ <"/proc/$1/stat" 2>/dev/null && [ "$st" != Z ]; do sleep 1; done
      exec "$2" "$3"' \
      swift-watchdog "$SWIFT_WATCH_PID" "$HERE/stop.sh" "$W" </dev/null >/dev/null 2>&1 &
    { grep -v '^watchdog ' "$W/pids" || true; echo "watchdog $!"; } >"$W/pids.tmp"
    mv "$W/pids.tmp" "$W/pids"
  fi
fi

# The script comes on stdin; the forked servers reopen stdin on /dev/null.
exec env EVENTLET_NO_GREENDNS=yes "$PY" - "$W" "$MODE" "$PORT" "${SWIFT_LOG_LEVEL:-WARNING}" \
  "$(id -un)" "${SWIFT_START_TIMEOUT:-120}" <<'PYEOF'
import base64, hashlib, hmac, http.client, os, socket, subprocess, sys, time, traceback
from email.utils import formatdate

w, mode, want_port, log_level, user, timeout = sys.argv[1:7]
t0 = time.time()
path = lambda *p: os.path.join(w, *p)

def write(name, text):
    with open(path(name), 'w') as f:
        f.write(text.lstrip())

def read_pairs(name):
    try:
        with open(path(name)) as f:
            return dict(line.split() for line in f if line.strip())
    except FileNotFoundError:
        return {}

configure = mode == 'all' and not os.path.exists(path('proxy-server.conf'))
if configure:
    os.makedirs(path('srv', 'd1'), exist_ok=True)
    os.makedirs(path('run'), exist_ok=True)
    # Free loopback ports, all held open until chosen so they differ.
    socks = []
    def free_port():
        s = socket.socket()
        s.bind(('127.0.0.1', 0))
        socks.append(s)
        return s.getsockname()[1]
    ports = {'proxy': int(want_port) if want_port else free_port(), 'account': free_port(),
             'container': free_port(), 'object': free_port(), 'memcached': free_port()}
    for s in socks:
        s.close()
    write('ports', ''.join('%s %d\n' % kv for kv in ports.items()))

    write('swift.conf', """
[swift-hash]
swift_hash_path_suffix = dvs-test-suffix
swift_hash_path_prefix = dvs-test-prefix

[storage-policy:0]
name = Policy-0
default = yes

[swift-constraints]
""")
    write('memcache.conf', '[memcache]\nmemcache_servers = 127.0.0.1:%d\n' % ports['memcached'])
    common = """
[DEFAULT]
bind_ip = 127.0.0.1
bind_port = {port}
bind_timeout = 10
workers = 0
user = {user}
swift_dir = {w}
devices = {w}/srv
mount_check = false
disable_fallocate = true
log_level = {log_level}
log_name = swift-{name}
"""
    for name in ('account', 'container', 'object'):
        write('%s-server.conf' % name, common.format(
            port=ports[name], user=user, w=w, name=name, log_level=log_level) + """
[pipeline:main]
pipeline = {name}-server

[app:{name}-server]
use = egg:swift#{name}
""".format(name=name))
    write('proxy-server.conf', common.format(
        port=ports['proxy'], user=user, w=w, name='proxy', log_level=log_level) + """
[pipeline:main]
# s3api goes before the auth middleware, slo after it (s3api builds multipart uploads on SLO).
pipeline = catch_errors gatekeeper healthcheck proxy-logging cache listing_formats bulk s3api tempauth copy slo dlo versioned_writes proxy-logging proxy-server

[app:proxy-server]
use = egg:swift#proxy
account_autocreate = true

[filter:s3api]
use = egg:swift#s3api
location = us-east-1
# AWS's limits, so tests see real behaviour: 5 MiB minimum part, 1000 keys per page and delete.
min_segment_size = 5242880
max_bucket_listing = 1000
max_multi_delete_objects = 1000

[filter:tempauth]
use = egg:swift#tempauth
user_test_tester = testing .admin

[filter:cache]
use = egg:swift#memcache
memcache_servers = 127.0.0.1:{mport}

[filter:catch_errors]
use = egg:swift#catch_errors
[filter:gatekeeper]
use = egg:swift#gatekeeper
[filter:healthcheck]
use = egg:swift#healthcheck
[filter:proxy-logging]
use = egg:swift#proxy_logging
[filter:listing_formats]
use = egg:swift#listing_formats
[filter:bulk]
use = egg:swift#bulk
[filter:copy]
use = egg:swift#copy
[filter:slo]
use = egg:swift#slo
[filter:dlo]
use = egg:swift#dlo
[filter:versioned_writes]
use = egg:swift#versioned_writes
""".format(mport=ports['memcached']))

ports = {k: int(v) for k, v in read_pairs('ports').items()}
pids = read_pairs('pids')

def alive(pid):
    try:
        with open('/proc/%s/stat' % pid) as f:
            return f.read().rsplit(')', 1)[1].split()[0] not in 'ZX'
    except (OSError, IndexError):
        return False

def record(name, pid):
    pids[name] = str(pid)
    write('pids.tmp', ''.join('%s %s\n' % kv for kv in pids.items()))
    os.replace(path('pids.tmp'), path('pids'))

names = ['memcached', 'account', 'container', 'object', 'proxy'] if mode == 'all' else ['proxy']
todo = [n for n in names if not (n in pids and alive(pids[n]))]

# A port held by another process would only show up as a server that never answers (Swift retries
# the bind for bind_timeout), so test them now. A proxy that was just killed may hold its port for
# a moment: retry briefly.
def port_free(port):
    s = socket.socket()
    s.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
    try:
        s.bind(('127.0.0.1', port))
        return True
    except OSError:
        return False
    finally:
        s.close()
for n in todo:
    give_up = time.time() + 3
    while not port_free(ports[n]):
        if time.time() > give_up:
            sys.stderr.write('swift: port %d (%s) is in use by another process\n' % (ports[n], n))
            sys.exit(1)
        time.sleep(0.05)

if 'memcached' in todo:
    with open(path('memcached.log'), 'ab') as log:
        p = subprocess.Popen(['memcached', '-l', '127.0.0.1', '-p', str(ports['memcached']), '-U', '0',
                              '-u', user, '-m', '64', '-t', '2', '-P', path('run', 'memcached.pid')],
                             stdin=subprocess.DEVNULL, stdout=log, stderr=log,
                             start_new_session=True)
    record('memcached', p.pid)

# Swift reads swift.conf when its modules are imported. utils tries /etc/swift/swift.conf (and
# tolerates its absence); set_swift_dir re-reads the hash prefix from ours, then the modules that
# read the constraints and storage policies are imported (or reloaded) after it.
from swift.common import utils
utils.set_swift_dir(w)
from swift.common import constraints, storage_policy
constraints.reload_constraints()
storage_policy.reload_storage_policies()
assert utils.HASH_PATH_PREFIX == b'dvs-test-prefix', utils.HASH_PATH_PREFIX

if configure:
    from swift.common.ring import RingBuilder
    for name in ('account', 'container', 'object'):
        b = RingBuilder(6, 1, 1)  # 64 partitions, 1 replica, 1 h min_part_hours
        b.add_dev({'id': 0, 'region': 1, 'zone': 1, 'ip': '127.0.0.1', 'port': ports[name],
                   'device': 'd1', 'weight': 100, 'meta': ''})
        b.rebalance()
        b.save(path(name + '.builder'))
        b.get_ring().save(path(name + '.ring.gz'))

# Do once, before forking, what each server would otherwise do by itself: eventlet's monkey
# patching and loading the WSGI pipeline (imports, entry-point lookups). The apps built here are
# thrown away (run_wsgi builds its own in each child); this cuts the start from ~3.5 s to ~1.3 s.
from swift.common.wsgi import loadapp, run_wsgi
utils.eventlet_monkey_patch()
for name in todo:
    if name != 'memcached':
        loadapp(path(name + '-server.conf'))

def spawn(name):
    sys.stdout.flush()
    sys.stderr.flush()
    pid = os.fork()
    if pid:
        return pid
    rc = 1
    try:
        os.setsid()
        fd = os.open(path(name + '.log'), os.O_WRONLY | os.O_APPEND | os.O_CREAT, 0o644)
        os.dup2(fd, 1)
        os.dup2(fd, 2)
        os.dup2(os.open(os.devnull, os.O_RDONLY), 0)
        # argv is what `ps` and stop.sh's ownership check see.
        sys.argv = [sys.argv[0], path(name + '-server.conf')]
        rc = run_wsgi(path(name + '-server.conf'), name + '-server', verbose=True)
    except SystemExit as e:
        rc = e.code if isinstance(e.code, int) else 1
    except BaseException:
        traceback.print_exc()
    finally:
        sys.stdout.flush()
        sys.stderr.flush()
        os._exit(rc or 0)

for name in todo:
    if name != 'memcached':
        record(name, spawn(name))

# Wait until ready: ListBuckets (signature V2: short, no SDK) proves proxy + s3api + tempauth +
# memcached + account server; HEAD of a missing bucket must be a 404 from the container server
# (503 while it is down). The object server only has to accept connections.
def s3(method, rpath):
    date = formatdate(usegmt=True)
    sig = base64.b64encode(hmac.new(b'testing', ('%s\n\n\n%s\n%s' % (method, date, rpath)).encode(),
                                    hashlib.sha1).digest()).decode()
    c = http.client.HTTPConnection('127.0.0.1', ports['proxy'], timeout=5)
    try:
        c.request(method, rpath, headers={'Date': date, 'Authorization': 'AWS test:tester:' + sig})
        r = c.getresponse()
        r.read()
        return r.status
    finally:
        c.close()

deadline = time.time() + float(timeout)
last = None
while True:
    dead = [n for n in names if not alive(pids.get(n))]
    if dead:
        sys.stderr.write('swift: %s exited during startup; its log:\n' % dead[0])
        try:
            sys.stderr.write(open(path(dead[0] + '.log')).read()[-3000:])
        except OSError:
            pass
        sys.exit(1)
    try:
        for n in ('object', 'container', 'account'):
            socket.create_connection(('127.0.0.1', ports[n]), timeout=1).close()
        if s3('GET', '/') == 200 and s3('HEAD', '/dvs-readiness-probe') == 404:
            break
    except (OSError, http.client.HTTPException) as e:
        last = e
    if time.time() > deadline:
        sys.stderr.write('swift: not ready after %ss (%r); logs in %s\n' % (timeout, last, w))
        sys.exit(1)
    time.sleep(0.05)
sys.stderr.write('swift: ready in %.1f s (%s)\n' % (time.time() - t0, ' '.join(todo) or 'nothing to start'))
print('http://127.0.0.1:%d' % ports['proxy'])
PYEOF
