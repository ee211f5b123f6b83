#!/usr/bin/env python3
"""Share-nothing instances and crash safety, with real processes.

Part 1 (--cluster): two `attache serve` instances, each with its own data folder, one PostgreSQL
database, one S3 bucket (moto's server), behind Debian's HAProxy in plain round-robin (no
stickiness). Checks: PATCHes that alternate between instances make the file byte for byte; one
instance killed with SIGKILL mid-upload while the SDK (the `attache send` CLI) and tuspy upload
through the balancer, and both complete with the file stored once; every file URL and preview
works on every instance; SIGTERM stops both with exit code 0.

Part 2 (--crash): one instance on the embedded default (SQLite + local folder), at least 100
concurrent uploads (half of them small files sent whole in one PATCH, half in 64 KiB PATCHes),
SIGKILL several times at random moments with a restart each time, clients resuming from HEAD. Checks: every upload finished exactly once, bytes identical, staging empty.

Prints one line per check and `N passed, N failed` last. Started by scripts/cluster-test.sh.
"""
import argparse, base64, hashlib, json, os, random, shutil, signal, socket, subprocess, sys, tempfile, threading, time
import requests

PASSED, FAILED = 0, 0


def check(ok, what):
    global PASSED, FAILED
    if ok:
        PASSED += 1
        print(f"ok   {what}", flush=True)
    else:
        FAILED += 1
        print(f"FAIL {what}", flush=True)


def free_port():
    s = socket.socket()
    s.bind(("127.0.0.1", 0))
    p = s.getsockname()[1]
    s.close()
    return p


def b64(s):
    return base64.b64encode(s.encode()).decode()


def wait_up(url, proc=None, secs=60):
    end = time.time() + secs
    while time.time() < end:
        if proc is not None and proc.poll() is not None:
            raise RuntimeError(f"{url}: the service exited with {proc.returncode}")
        try:
            if requests.get(url + "/healthz", timeout=1).status_code == 200:
                return
        except requests.RequestException:
            pass
        time.sleep(0.1)
    raise RuntimeError(f"{url} did not come up")


class Instance:
    def __init__(self, binary, name, data_dir, env, extra):
        self.binary, self.name, self.data_dir, self.env, self.extra = binary, name, data_dir, env, extra
        self.port = free_port()
        self.url = f"http://127.0.0.1:{self.port}"
        self.proc = None
        self.log = open(os.path.join(os.path.dirname(data_dir), f"{name}.log"), "ab")

    def start(self):
        args = [self.binary, "serve", "--demo", "--listen", f"127.0.0.1:{self.port}", "--data-dir", self.data_dir] + self.extra
        self.proc = subprocess.Popen(args, env=self.env, stdout=self.log, stderr=self.log)
        wait_up(self.url, self.proc)

    def kill(self):
        self.proc.send_signal(signal.SIGKILL)
        self.proc.wait()

    def term(self):
        self.proc.send_signal(signal.SIGTERM)
        return self.proc.wait(timeout=40)


def login(base, user):
    r = requests.post(f"{base}/api/login", json={"account": "acme", "username": user, "password": "demo-password"}, timeout=10)
    r.raise_for_status()
    return r.json()["token"]


def open_contact(base, agent_token, name):
    s = requests.Session()
    r = s.post(f"{base}/api/visitor/contacts", json={"account": "acme", "name": name, "message": "hello"}, timeout=10)
    r.raise_for_status()
    cid = r.json()["id"]
    r = requests.post(f"{base}/api/contacts/{cid}/accept", headers={"Authorization": f"Bearer {agent_token}"}, timeout=10)
    r.raise_for_status()
    return s, cid


def raise_limit(base, admin_token, size):
    r = requests.patch(f"{base}/api/account", json={"max_upload_bytes": size}, headers={"Authorization": f"Bearer {admin_token}"}, timeout=10)
    r.raise_for_status()


def tus_create(session, base, cid, name, length, headers=None):
    meta = f"contact {b64(cid)},filename {b64(name)}"
    h = {"Tus-Resumable": "1.0.0", "Upload-Length": str(length), "Upload-Metadata": meta}
    h.update(headers or {})
    r = session.post(f"{base}/api/uploads", headers=h, timeout=30)
    if r.status_code != 201:
        raise RuntimeError(f"create: {r.status_code} {r.text}")
    return r.headers["Location"]


def resumable_upload(session, base, loc, data, chunk, headers=None, deadline=120):
    """PATCHes `data` from wherever the service says it stands, through errors, until done."""
    h = dict(headers or {})
    end = time.time() + deadline
    served = set()
    offset = None  # known from the last PATCH; after an error, asked with HEAD
    while time.time() < end:
        try:
            if offset is None:
                r = session.head(base + loc, headers={"Tus-Resumable": "1.0.0", **h}, timeout=30)
                if r.status_code != 200:
                    time.sleep(0.3)
                    continue
                offset = int(r.headers["Upload-Offset"])
                if "Attache-Message-Id" in r.headers:
                    return r.headers["Attache-Message-Id"], served
            body = data[offset:offset + chunk]
            r = session.patch(base + loc, data=body, timeout=60, headers={
                "Tus-Resumable": "1.0.0", "Upload-Offset": str(offset),
                "Content-Type": "application/offset+octet-stream", **h})
            if "X-Served-By" in r.headers:
                served.add(r.headers["X-Served-By"])
            if r.status_code == 204 and "Attache-Message-Id" in r.headers:
                return r.headers["Attache-Message-Id"], served
            if r.status_code not in (204, 409, 423, 502, 503, 504):
                raise RuntimeError(f"PATCH {loc}: {r.status_code} {r.text}")
            if r.status_code == 204:
                offset = int(r.headers["Upload-Offset"])
            else:
                offset = None
                time.sleep(0.2)
        except requests.RequestException:
            offset = None
            time.sleep(0.3)
    raise RuntimeError(f"{loc} did not finish in time")


def attachments_of(base, staff_token, cid):
    r = requests.get(f"{base}/api/reports/contacts/{cid}", headers={"Authorization": f"Bearer {staff_token}"}, timeout=30)
    r.raise_for_status()
    return [m["attachment"] for m in r.json()["messages"] if m.get("attachment")]


def haproxy_config(port, servers):
    lines = [
        "global", "  maxconn 2000",
        "defaults", "  mode http", "  timeout connect 2s", "  timeout client 120s", "  timeout server 120s",
        "  retries 3", "  option redispatch",
        "frontend web", f"  bind 127.0.0.1:{port}", "  default_backend attache",
        "backend attache", "  balance roundrobin", "  option httpchk GET /healthz",
        "  http-response set-header X-Served-By %s",
    ]
    for name, url in servers:
        lines.append(f"  server {name} {url.removeprefix('http://')} check inter 300 fall 2 rise 1")
    return "\n".join(lines) + "\n"


def cluster(args):
    work = workdir("attache-cluster-")
    db = f"attache_cluster_{os.getpid()}_{random.randrange(1 << 30)}"
    subprocess.run(["psql", f"{args.postgres}/postgres", "-qc", f"CREATE DATABASE {db}"], check=True)
    secret = os.path.join(work, "secret.key")
    with open(secret, "w") as f:
        f.write(subprocess.run([args.attache, "secret"], capture_output=True, text=True, check=True).stdout)
    env = dict(os.environ)
    bucket = os.environ["ATTACHE_TEST_S3"].rstrip("/") + f"/cluster-{random.randrange(1 << 30)}"
    extra = ["--database-url", f"{args.postgres}/{db}", "--store-url", bucket, "--secret-file", secret, "--lease-secs", "4"]
    a = Instance(args.attache, "a", os.path.join(work, "a"), env, extra)
    b = Instance(args.attache, "b", os.path.join(work, "b"), env, extra)
    # A secret is required on PostgreSQL + S3: without one the service refuses to start, naming it.
    no_secret = subprocess.run([args.attache, "serve", "--listen", "127.0.0.1:0", "--data-dir", os.path.join(work, "x")] + extra[:4],
                               capture_output=True, text=True, env=env, timeout=60)
    check(no_secret.returncode != 0 and "--secret-file" in no_secret.stderr, "no secret on PostgreSQL + S3: refuses to start and says what to set")
    a.start()
    b.start()
    lb_port = free_port()
    cfg = os.path.join(work, "haproxy.cfg")
    with open(cfg, "w") as f:
        f.write(haproxy_config(lb_port, [("a", a.url), ("b", b.url)]))
    lb = subprocess.Popen(["haproxy", "-f", cfg, "-db"], stdout=subprocess.DEVNULL, stderr=open(os.path.join(work, "haproxy.log"), "wb"))
    lb_url = f"http://127.0.0.1:{lb_port}"
    try:
        wait_up(lb_url)
        alice = login(lb_url, "alice")
        raise_limit(lb_url, login(lb_url, "ada"), 30 << 20)

        # 1. PATCHes alternating between instances (S3 parts of 5 MiB, tails in between).
        visitor, cid = open_contact(lb_url, alice, "Alternating")
        data = os.urandom(12 * 1024 * 1024 + 4321)
        loc = tus_create(visitor, lb_url, cid, "alternating.bin", len(data))
        msg, served = resumable_upload(visitor, lb_url, loc, data, 1024 * 1024)
        check(served == {"a", "b"}, f"PATCHes of one upload reached both instances ({sorted(served)})")
        atts = attachments_of(lb_url, login(lb_url, "sam"), cid)
        check(len(atts) == 1 and atts[0]["sha256"] == hashlib.sha256(data).hexdigest(), "alternating PATCHes: the file is stored once, byte for byte")
        for inst in (a, b):
            r = visitor.get(inst.url + atts[0]["url"], timeout=30)
            check(r.status_code == 200 and hashlib.sha256(r.content).digest() == hashlib.sha256(data).digest(), f"its URL serves the bytes on instance {inst.name}")

        # 2. Previews and URLs on every instance.
        # Without text chunks (-strip): the service would remove them, and this compares bytes.
        png = subprocess.run(["convert", "-size", "320x200", "gradient:blue-red", "-strip", "png:-"], capture_output=True, check=True).stdout
        loc = tus_create(visitor, lb_url, cid, "photo.png", len(png))
        resumable_upload(visitor, lb_url, loc, png, 1 << 20)
        att = [x for x in attachments_of(lb_url, login(lb_url, "sam"), cid) if x["name"] == "photo.png"][0]
        for inst in (a, b):
            p = requests.get(inst.url + att["preview_url"], headers={"Authorization": f"Bearer {alice}"}, timeout=30)
            f = requests.get(inst.url + att["url"], headers={"Authorization": f"Bearer {alice}"}, timeout=30)
            check(p.status_code == 200 and p.headers["content-type"].startswith("image/") and f.content == png,
                  f"file and preview URLs work on instance {inst.name}")

        # 3. SIGKILL of an instance while the SDK (the CLI) uploads through the balancer.
        big = os.path.join(work, "sdk.bin")
        with open(big, "wb") as f:
            f.write(os.urandom(24 * 1024 * 1024))
        _, cid2 = open_contact(lb_url, alice, "SDK")
        env_cli = dict(env, ATTACHE_SERVER=lb_url, ATTACHE_TOKEN=alice)
        send = subprocess.Popen([args.attache, "send", cid2, big, "--chunk", str(256 * 1024)], env=env_cli,
                                stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True)
        time.sleep(1.0)
        still_sending = send.poll() is None
        a.kill()
        time.sleep(1.5)
        a.start()
        out, _ = send.communicate(timeout=300)
        check(still_sending, "the instance was killed while the SDK upload was running")
        atts = attachments_of(lb_url, login(lb_url, "sam"), cid2)
        want = hashlib.sha256(open(big, "rb").read()).hexdigest()
        check(send.returncode == 0 and len(atts) == 1 and atts[0]["sha256"] == want,
              f"the SDK resumed through the balancer and the file is stored once (exit {send.returncode}, {len(atts)} attachment(s))")
        if send.returncode != 0:
            print(out[-2000:])

        # 4. The same with tuspy, killing the other instance.
        from tusclient import client as tus_client
        vis3, cid3 = open_contact(lb_url, alice, "tuspy")
        tus_file = os.path.join(work, "tuspy.bin")
        with open(tus_file, "wb") as f:
            f.write(os.urandom(16 * 1024 * 1024))
        cookie = "; ".join(f"{k}={v}" for k, v in vis3.cookies.items())
        tc = tus_client.TusClient(lb_url + "/api/uploads", headers={"Cookie": cookie})
        uploader = tc.uploader(tus_file, chunk_size=256 * 1024, metadata={"contact": cid3, "filename": "tuspy.bin"}, retries=30, retry_delay=1)
        at_kill = {}

        def kill_b():
            at_kill["offset"] = uploader.offset
            b.kill()

        killer = threading.Timer(1.0, kill_b)
        killer.start()
        err = None
        try:
            uploader.upload()
        except Exception as e:  # noqa: BLE001 - reported below
            err = e
        killer.join()
        killed_mid = 0 < at_kill.get("offset", 0) < uploader.get_file_size()
        b.start()
        want = hashlib.sha256(open(tus_file, "rb").read()).hexdigest()
        atts = []
        for _ in range(100):
            atts = attachments_of(lb_url, login(lb_url, "sam"), cid3)
            if atts:
                break
            time.sleep(0.2)
        check(err is None and killed_mid,
              f"tuspy resumed through the balancer after an instance died at offset {at_kill.get('offset')} ({err})")
        check(len(atts) == 1 and atts[0]["sha256"] == want, f"tuspy's file is stored once, byte for byte ({len(atts)} attachment(s))")

        # 5. A PATCH while another request holds the lease gets 423 and appends nothing.
        loc = tus_create(visitor, lb_url, cid, "locked.bin", 2 * 1024 * 1024)
        slow_done = threading.Event()

        def slow_body():
            yield b"x" * 1024
            slow_done.wait(10)
            yield b"y" * 1024

        t = threading.Thread(target=lambda: visitor.patch(lb_url + loc, data=slow_body(), timeout=60, headers={
            "Tus-Resumable": "1.0.0", "Upload-Offset": "0", "Content-Type": "application/offset+octet-stream"}))
        t.start()
        time.sleep(0.5)
        codes = set()
        for inst in (a, b):
            r = visitor.patch(inst.url + loc, data=b"z" * 10, timeout=30, headers={
                "Tus-Resumable": "1.0.0", "Upload-Offset": "0", "Content-Type": "application/offset+octet-stream"})
            codes.add(r.status_code)
        slow_done.set()
        t.join()
        off = int(visitor.head(lb_url + loc, headers={"Tus-Resumable": "1.0.0"}, timeout=30).headers["Upload-Offset"])
        check(codes == {423} and off == 2048, f"a PATCH while another holds the lease: 423 on both instances, nothing appended (got {codes}, offset {off})")
    finally:
        lb.terminate()
        for inst in (a, b):
            if inst.proc and inst.proc.poll() is None:
                code = inst.term()
                check(code == 0, f"SIGTERM stops instance {inst.name} with exit code 0 (got {code})")
        subprocess.run(["psql", f"{args.postgres}/postgres", "-qc", f"DROP DATABASE IF EXISTS {db} WITH (FORCE)"], capture_output=True)


# The size of the crash test's files sent whole in one PATCH.
WHOLE = 48 * 1024


def crash(args):
    work = workdir("attache-crash-")
    inst = Instance(args.attache, "solo", os.path.join(work, "data"), dict(os.environ), [])
    inst.start()
    base = inst.url
    alice = login(base, "alice")
    uploads = []  # (session, loc, data)
    contacts = []
    n, size = args.uploads, args.size
    for c in range((n + 9) // 10):
        s, cid = open_contact(base, alice, f"Crash {c}")
        contacts.append(cid)
        for i in range(min(10, n - c * 10)):
            # Every other file is small and goes whole in one PATCH from 0: the path whose offset
            # is recorded only with the finished file, so a kill before that must be resent.
            data = os.urandom(size if i % 2 == 0 else WHOLE)
            uploads.append((s, cid, tus_create(s, base, cid, f"file-{c}-{i}.bin", len(data)), data))
    results, errors = {}, []
    lock = threading.Lock()
    queue = list(range(len(uploads)))

    def worker():
        while True:
            with lock:
                if not queue:
                    return
                i = queue.pop()
            s, _, loc, data = uploads[i]
            try:
                chunk = len(data) if len(data) == WHOLE else 64 * 1024
                msg, _ = resumable_upload(s, base, loc, data, chunk, deadline=300)
                with lock:
                    results[i] = msg
            except Exception as e:  # noqa: BLE001
                with lock:
                    errors.append(f"{loc}: {e}")

    threads = [threading.Thread(target=worker) for _ in range(16)]
    for t in threads:
        t.start()
    kills = 0
    for _ in range(args.kills):
        time.sleep(random.uniform(0.4, 1.2))
        if all(not t.is_alive() for t in threads):
            break
        inst.kill()
        kills += 1
        time.sleep(random.uniform(0.1, 0.5))
        inst.start()
    for t in threads:
        t.join()
    check(kills >= 3, f"the service was killed with SIGKILL {kills} times during {len(uploads)} concurrent uploads")
    check(not errors and len(results) == len(uploads), f"every upload finished ({len(results)}/{len(uploads)}; {errors[:3]})")
    sam = login(base, "sam")
    got = {}
    for cid in contacts:
        for att in attachments_of(base, sam, cid):
            got.setdefault(att["name"], []).append(att["sha256"])
    want = {f"file-{i // 10}-{i % 10}.bin": hashlib.sha256(d).hexdigest() for i, (_, _, _, d) in enumerate(uploads)}
    dupes = [k for k, v in got.items() if len(v) != 1]
    wrong = [k for k, h in want.items() if got.get(k, [None])[0] != h]
    check(not dupes, f"every upload was published exactly once (duplicates: {dupes[:5]})")
    check(not wrong, f"every file is byte for byte what was sent (wrong or missing: {wrong[:5]})")
    staging = os.path.join(inst.data_dir, "staging")
    left = os.listdir(staging) if os.path.isdir(staging) else []
    check(not left, f"nothing left in staging ({len(left)} files)")
    check(inst.term() == 0, "SIGTERM stops the service with exit code 0")


def throughput(args):
    """Upload throughput (40 x 25 MiB, 8 clients, 5 MiB PATCHes) through HAProxy to one instance,
    then to two, on PostgreSQL + the bucket. Prints figures; asserts nothing."""
    work = workdir("attache-throughput-")
    secret = os.path.join(work, "secret.key")
    with open(secret, "w") as f:
        f.write(subprocess.run([args.attache, "secret"], capture_output=True, text=True, check=True).stdout)
    data = os.urandom(25 * 1024 * 1024)
    for n_inst in (1, 2):
        db = f"attache_tp_{os.getpid()}_{n_inst}"
        subprocess.run(["psql", f"{args.postgres}/postgres", "-qc", f"CREATE DATABASE {db}"], check=True)
        bucket = os.environ["ATTACHE_TEST_S3"].rstrip("/") + f"/tp-{random.randrange(1 << 30)}"
        extra = ["--database-url", f"{args.postgres}/{db}", "--store-url", bucket, "--secret-file", secret]
        insts = [Instance(args.attache, f"i{n_inst}{k}", os.path.join(work, f"i{n_inst}{k}"), dict(os.environ), extra) for k in range(n_inst)]
        for i in insts:
            i.start()
        lb_port = free_port()
        cfg = os.path.join(work, f"haproxy{n_inst}.cfg")
        with open(cfg, "w") as f:
            f.write(haproxy_config(lb_port, [(i.name, i.url) for i in insts]))
        lb = subprocess.Popen(["haproxy", "-f", cfg, "-db"], stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
        lb_url = f"http://127.0.0.1:{lb_port}"
        try:
            wait_up(lb_url)
            alice = login(lb_url, "alice")
            raise_limit(lb_url, login(lb_url, "ada"), 30 << 20)
            jobs = []
            for c in range(4):
                s, cid = open_contact(lb_url, alice, f"tp {c}")
                for k in range(10):
                    jobs.append((s, cid, f"tp-{c}-{k}.bin"))
            lock = threading.Lock()
            start = time.time()

            def worker():
                while True:
                    with lock:
                        if not jobs:
                            return
                        s, cid, name = jobs.pop()
                    loc = tus_create(s, lb_url, cid, name, len(data))
                    resumable_upload(s, lb_url, loc, data, 5 * 1024 * 1024, deadline=600)

            threads = [threading.Thread(target=worker) for _ in range(8)]
            for t in threads:
                t.start()
            for t in threads:
                t.join()
            secs = time.time() - start
            print(f"throughput: {n_inst} instance(s) behind HAProxy, PostgreSQL + S3 (moto): 40 x 25 MiB, 8 clients: "
                  f"{secs:.1f} s, {40 * 25 / secs:.1f} MiB/s, {40 / secs:.2f} files/s", flush=True)
        finally:
            lb.terminate()
            for i in insts:
                i.term()
            subprocess.run(["psql", f"{args.postgres}/postgres", "-qc", f"DROP DATABASE IF EXISTS {db} WITH (FORCE)"], capture_output=True)


WORKDIRS = []


def workdir(prefix):
    """A temporary folder for a run's data; removed at the end unless a check failed."""
    work = tempfile.mkdtemp(prefix=prefix)
    WORKDIRS.append(work)
    return work


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--attache", required=True)
    ap.add_argument("--postgres")
    ap.add_argument("--cluster", action="store_true")
    ap.add_argument("--crash", action="store_true")
    ap.add_argument("--throughput", action="store_true")
    ap.add_argument("--uploads", type=int, default=100)
    ap.add_argument("--size", type=int, default=1024 * 1024)
    ap.add_argument("--kills", type=int, default=4)
    args = ap.parse_args()
    try:
        if args.crash:
            crash(args)
        if args.cluster:
            cluster(args)
        if args.throughput:
            throughput(args)
    except Exception as e:  # noqa: BLE001 - a harness failure is a failed check
        import traceback
        traceback.print_exc()
        check(False, f"the harness ran to the end ({e})")
    for work in WORKDIRS:
        if FAILED:
            print(f"kept for a look: {work}")
        else:
            shutil.rmtree(work, ignore_errors=True)
    print(f"cluster: {PASSED} passed, {FAILED} failed")
    sys.exit(1 if FAILED else 0)


if __name__ == "__main__":
    main()
