# ruff: noqa: E501 - markdown table rows are as long as people write them
"""Realistic operations pages for `search_corpus.py`: 40 runbook, reference and policy pages of an
imaginary company's wiki (under `ops/`), written as people write them — markdown tables, inline
HTML (`<span class="help-button">`, `<details>`), code blocks, lists, wikilinks — in clusters of
near neighbours (four backup pages, four deploy pages, ...), so a question's topic alone does not
single out its page.

Three query sets, one query per page each, written from the page before any search was run:
keyword queries (a rare exact term: a config key, an error code, a table cell value), paraphrased
queries (no content word shared with the page, checked by `search_corpus.paraphrase_problems`)
and mixed queries (a question in plain words carrying one or two exact terms of the page).
"""

from __future__ import annotations

PAGES = r"""
# Nightly Backup Job

The nightly backup copies every production database and the uploads volume to the `acme-backups`
bucket with [restic](https://restic.net). It runs as the Kubernetes CronJob `backup-nightly` in the
`ops` namespace. Owner: <span class="help-button">#team-platform</span>

## Schedule and settings

| setting | value | note |
| --- | --- | --- |
| `BACKUP_WINDOW` | `01:00-04:00` UTC | the job is killed at the end of the window |
| `RESTIC_PACK_SIZE` | `64` | MiB per pack file |
| `restic.retention.keep_daily` | `14` | |
| `restic.retention.keep_weekly` | `8` | |
| full backup | Saturday | every other night is incremental |

## Troubleshooting

| code | meaning | what to do |
| --- | --- | --- |
| `E_QUOTA` | the bucket refused the upload: its quota is used up | Saturday full backups are about four times larger, so this shows up at weekends first; prune old snapshots or ask for a bigger quota on [[Object Storage Buckets]] |
| `E_LOCKED` | a previous run left a stale repository lock | check no other run is active, then `restic unlock` |
| `E_TIMEOUT` | the window ended before the upload finished | look for a slow database dump |

<details><summary>Sample log of a failed run</summary>

```
2024-05-11T01:42:07Z restic: Save(<data/5f1c2e>) returned error: E_QUOTA
2024-05-11T01:42:07Z backup-nightly: giving up after 3 retries
```

</details>

# Restoring From Snapshots

Use this page when data has been lost or corrupted and must come back from the restic repository.

1. List the snapshots: `restic snapshots --tag prod --host db-main`
2. Restore into a scratch directory, never over the live data:

```bash
restic restore 4f2a91c3 --target /restore/scratch --include /var/lib/postgresql
```

3. For a database, replay the write-ahead log up to the moment before the damage by setting
   `recovery_target_time = '2024-05-11 09:15:00+00'` in `postgresql.auto.conf`.

| service | RPO | RTO |
| --- | --- | --- |
| billing database | 5 minutes | 2 hours |
| uploads | 24 hours | 8 hours |
| wiki | 24 hours | 4 hours |

Ask in #incident before restoring anything that customers see.

# Offsite Archive

On the first Sunday of each month a copy of the latest full snapshot goes to a second cloud
account, into the Glacier Deep Archive bucket `acme-cold-vault` (`ARCHIVE_BUCKET`). It protects us
against losing the primary account.

| retrieval tier | time to first byte | cost per GB |
| --- | --- | --- |
| Bulk | within 48 hours | $0.0025 |
| Standard | within 12 hours | $0.02 |

Objects stay at least 180 days; deleting earlier is billed anyway. A second retrieval request
for the same object answers `RestoreAlreadyInProgress` — wait for the first one.

Access needs the `archive-reader` role, granted by two people from security.

# Backup Verification Drill

Every quarter someone from the on-call rotation proves that backups can really be restored.

- pick a random snapshot older than 30 days
- restore it on the `drill-01` machine following [[Restoring From Snapshots]]
- compare `sha256sum` of ten random files against the production copies
- start the application against the restored database and log in

| quarter | restored by | result |
| --- | --- | --- |
| 2024 Q1 | Priya | passed in 3 h 10 min |
| 2024 Q2 | Tomasz | failed: `E_CHECKSUM` on the media volume, fixed by re-uploading pack files |
| 2024 Q3 | Lena | passed in 2 h 40 min |

Write the result into the table above and file a ticket for anything that went wrong.

# Deploy Pipeline

Every merge to `main` goes through these stages in GitLab CI:

| stage | job | typical time |
| --- | --- | --- |
| lint | `ruff`, `eslint` | 1 min |
| test | `pytest -n 4` | 6 min |
| build | `docker buildx bake` | 4 min |
| deploy-staging | `helm upgrade --install` | 2 min |
| deploy-production | manual | 2 min |

Production waits for a person: press <span class="help-button">Approve</span> on the pipeline
page. While `DEPLOY_FREEZE=true` is set in the project's CI variables (public holidays, end of
quarter) the production job refuses to start.

If the pods stay in `ImagePullBackOff` with `ERR_IMAGE_PULL`, the registry token of the cluster has
expired: run `ops/scripts/refresh-registry-secret.sh`.

# Rollback Procedure

Roll back first, investigate later, when a release breaks checkout or login.

```bash
kubectl -n shop rollout history deployment/web
kubectl -n shop rollout undo deployment/web --to-revision=41
```

For a Helm release use `helm rollback shop 17`. Database migrations are not undone by either
command; a release whose migration dropped a column cannot be rolled back this way — see
[[Schema Migrations]] for the expand and contract rule that avoids that.

After a rollback, set `DEPLOY_FREEZE=true` until the fix is reviewed, and post in #releases.

# Canary Releases

The storefront is released with Argo Rollouts: the new version first gets a small share of the
traffic and is promoted only while its error ratio stays low.

```yaml
strategy:
  canary:
    steps:
      - setWeight: 5
      - pause: {duration: 10m}
      - setWeight: 25
      - pause: {duration: 30m}
```

The `AnalysisTemplate` named `error-ratio` aborts the rollout when more than 0.5 % of requests
answer 5xx. An aborted rollout shows as `Degraded`; promote by hand with
`kubectl argo rollouts promote storefront` only after the cause is understood.

# Feature Flags

Flags live in Unleash (`https://flags.acme.internal`). Name them `ff_<area>_<change>`, for example
`ff_checkout_v2`, and give each one an owner and a removal date.

| type | used for | default |
| --- | --- | --- |
| release | hiding unfinished work | off |
| kill switch | turning off an expensive feature under load | on |
| experiment | A/B tests | 50/50 |

A flag older than 90 days shows up in the weekly stale-flag report; delete it from the code first,
then archive it in Unleash.

# Postgres Connection Pooling

Applications never connect to Postgres directly: PgBouncer sits in front of every database.

```ini
[pgbouncer]
pool_mode = transaction
max_client_conn = 2000
default_pool_size = 40
server_idle_timeout = 300
```

Transaction pooling means session features do not work: no `SET` outside a transaction, no
advisory locks held across statements, no `LISTEN`.

When clients see `FATAL: sorry, too many clients already`, the database itself ran out of
`max_connections` — usually a job that bypasses PgBouncer. Find it with
`SELECT usename, application_name, count(*) FROM pg_stat_activity GROUP BY 1, 2`.

# Replica Lag

The read replicas stream the primary's write-ahead log. The alert `ReplicaLagHigh` fires when
`replay_lag` in `pg_stat_replication` stays above 30 seconds for five minutes.

Common causes:

- a long report query on the replica holding back replay (with `hot_standby_feedback = on` it
  bloats the primary instead)
- a bulk update on the primary, such as a backfill
- the replica's disk being slower than the primary's

Reads that must see their own writes go to the primary: the ORM's `using_primary()` context does
that.

# Schema Migrations

Migrations are written with Alembic and run by the deploy job before the new pods start
(`alembic upgrade head`).

Rules:

1. **Expand and contract**: add the new column, deploy code that writes both, backfill, switch
   reads, and drop the old column in a later release.
2. Every migration starts with `SET lock_timeout = '3s'` so it fails instead of queueing behind a
   long transaction and blocking every query after it.
3. Indexes are created with `CREATE INDEX CONCURRENTLY` in a migration of their own.

A migration that fails with `DuplicateColumn` was usually applied by hand already: check
`alembic_version` before changing anything.

# Vacuum and Table Bloat

Postgres keeps old row versions until vacuum removes them. Busy tables get their own settings:

| table | `autovacuum_vacuum_scale_factor` | `autovacuum_vacuum_cost_limit` |
| --- | --- | --- |
| orders | 0.05 | 2000 |
| events | 0.01 | 4000 |
| default | 0.2 | 200 |

A table that has grown far beyond its live rows is rebuilt online with `pg_repack -t orders`.

Watch `age(datfrozenxid)`: above 1.5 billion, transaction ID wraparound is near and Postgres will
force an aggressive vacuum that cannot be cancelled.

# Single Sign-On

Staff log in to internal tools through Keycloak (realm `acme-staff`), which trusts our Google
Workspace as identity provider over SAML.

| tool | protocol | client id |
| --- | --- | --- |
| Grafana | OIDC | `grafana` |
| GitLab | SAML | `gitlab-saml` |
| wiki | OIDC | `otterwiki` |

A new application needs `SAML_IDP_METADATA_URL` pointing at
`https://sso.acme.internal/realms/acme-staff/protocol/saml/descriptor`.

If users get `Assertion is not yet valid` or an expired `NotOnOrAfter`, the application server's
clock is off: check `chronyc tracking`.

# API Tokens

Personal access tokens start with `acme_pat_` and expire after 90 days. Create them under
<span class="help-button">Profile → Tokens</span>.

| scope | allows |
| --- | --- |
| `read` | GET on every endpoint |
| `write` | creating and changing records |
| `admin` | users, billing and settings |

Service accounts get tokens with the prefix `acme_svc_`, stored in Vault and rotated by the
`token-rotator` job every 30 days. A leaked token is revoked at once by the secret scanner, which
posts the token's owner in #security.

# Two-Factor Enrolment

Every account needs a second factor within seven days of its creation.

- an authenticator app (Aegis, 1Password, Google Authenticator) with TOTP codes
- a hardware key (YubiKey 5 series) over WebAuthn, recommended for admins

Save the ten recovery codes somewhere safe; each works once.

<details><summary>I lost my phone</summary>

Use a recovery code to log in and enrol the new phone. Without recovery codes, ask IT in #it-help:
they check your identity on a video call before resetting the factor.

</details>

# SSH Access to Servers

Servers accept only short-lived SSH certificates; there are no personal keys in
`authorized_keys`.

```bash
step ssh login you@acme.com --provisioner acme-sso   # certificate valid 16 hours
ssh -J jump.acme.internal app-07.prod.acme.internal
```

In `~/.ssh/config`, `ProxyJump jump.acme.internal` saves typing the `-J`. Root logins are off;
use `sudo`, which is logged. Access to production hosts needs the `prod-shell` group.

# Alert: Disk Almost Full

`DiskSpaceLow` fires when a filesystem is more than 85 % used, `DiskSpaceCritical` at 95 %.

1. Find what grew: `du -xh --max-depth=1 /var | sort -h`
2. Old journal files: `journalctl --vacuum-size=500M`
3. Docker leftovers: `docker system prune --filter until=72h`
4. Still above 90 %: grow the volume in the cloud console and run `resize2fs`

Never delete files under `/var/lib/postgresql`; a full database disk is an incident, page the
database owner.

# On-Call Rotation

Two people are on call each week, primary and secondary; the handover is Monday at 10:00 in
#oncall.

| week | primary | secondary |
| --- | --- | --- |
| 2024-W40 | Priya | Lena |
| 2024-W41 | Tomasz | Priya |
| 2024-W42 | Lena | Tomasz |

PagerDuty escalation policy `ops-primary` pages the primary, then the secondary after 15 minutes,
then the head of engineering. Each on-call week is paid a flat €400, plus time off for every page
between 22:00 and 07:00.

# Alert: High Latency

`HighP99Latency` fires when the storefront's 99th percentile response time stays above 800 ms for
ten minutes.

- open the *Storefront overview* dashboard in Grafana and see which route is slow
- slow database: check `pg_stat_statements` for a new expensive query
- CPU bound: scale out with `kubectl -n shop scale deployment/web --replicas=12`
- a slow dependency: the payment provider's status page

The alert resolves itself after ten minutes below the threshold.

# Log Retention

| log | where | kept |
| --- | --- | --- |
| application logs | Loki | 30 days (`retention_period: 720h`) |
| access logs | Loki | 14 days |
| audit logs | S3 bucket `acme-audit`, object lock | 400 days |

Personal data in logs is masked by the `redact` stage of the Promtail pipeline. A customer's
erasure request does not reach the audit logs; the legal team has approved this.

# VPN Setup

The office network and the private subnets are reached over WireGuard.

```ini
[Interface]
Address = 10.20.14.7/32
DNS = 10.20.0.2

[Peer]
Endpoint = vpn.acme.example:51820
AllowedIPs = 10.20.0.0/16
```

Save it as `/etc/wireguard/acme0.conf` and start it with `wg-quick up acme0`. On hotel or mobile
networks that drop large packets, add `MTU = 1380` to the interface section.

# DNS Records

The public zone `acme.example` is hosted in Route 53 and changed only through Terraform
(`infra/dns`).

| name | type | value | TTL |
| --- | --- | --- | --- |
| `acme.example` | A | alias of the storefront load balancer | 60 |
| `www` | CNAME | `acme.example` | 300 |
| `mail` | MX | `10 inbound-smtp.eu-west-1.amazonaws.com` | 3600 |
| `_dmarc` | TXT | `v=DMARC1; p=quarantine` | 3600 |

Check a change from outside with `dig +short www.acme.example @1.1.1.1`. Lower the TTL a day
before moving a record.

# TLS Certificate Renewal

Certificates are issued by cert-manager from Let's Encrypt and renewed 30 days before expiry.

```bash
kubectl get certificate -A
kubectl describe certificaterequest -n shop storefront-tls-2x8kq
```

A `Certificate` stuck at `Ready: False` usually failed its HTTP-01 challenge: the ingress does
not route `/.well-known/acme-challenge/`. Too many retries hit Let's Encrypt's limit and the
order fails with `too many certificates already issued`; wait a week or use the staging issuer
`letsencrypt-staging` while debugging.

# Firewall Rules

| port | protocol | from | to |
| --- | --- | --- | --- |
| 22 | TCP | bastion only | all servers |
| 443 | TCP | anywhere | load balancers |
| 5432 | TCP | app subnet `10.20.8.0/22` | databases |
| 6379 | TCP | app subnet | Redis |

Security groups are managed in Terraform; a change needs a merge request approved by someone from
security. On the office router the same rules are written for `nftables` in
`/etc/nftables.d/office.nft`.

# Expense Claims

Claims are submitted in Pleo with a photo of the receipt, at the latest on the 5th of the following
month.

| expense | limit |
| --- | --- |
| meals while travelling | €45 per day |
| hotel | €160 per night (€220 in London and Zurich) |
| train | second class; first class above four hours |
| taxi | only without public transport |

A claim is sent back with code `EXP-07` when the receipt is missing or unreadable, and `EXP-12`
when the project code is missing. Finance pays approved claims with the next salary.

# New Laptop Setup

New MacBooks come enrolled in Jamf; after the first login:

1. turn on FileVault when asked (the recovery key is escrowed in Jamf)
2. install Homebrew, then the shared tools: `brew bundle --file=~/acme/Brewfile`
3. join the VPN (see [[VPN Setup]]) and clone the repositories
4. press <span class="help-button">Self Service → Developer Tools</span> for Docker Desktop

Do not install another antivirus: the Jamf profile already runs one.

# Holiday and Leave Policy

Full-time staff have 28 days of paid holiday a year plus public holidays. Up to five unused days
carry over and must be taken by 31 March.

| leave | how to ask | notice |
| --- | --- | --- |
| holiday | Personio | two weeks for more than three days |
| sick leave | message your lead, enter it in Personio | same morning |
| parental leave | talk to People team | eight weeks |

Sick days do not count against holiday. From the fourth sick day a doctor's note is needed.

# Office Visitors

Guests sign in at reception (open 8:30–18:00) and wear a visitor badge at all times.

- register them the day before in Envoy so the badge is printed
- anyone who will see unreleased work signs the NDA on the tablet at reception
- guest Wi-Fi is `Acme-Guest`; reception hands out a voucher valid for 24 hours

Visitors are accompanied everywhere except the café on the ground floor.

# Email Delivery Queue

Outgoing mail (receipts, password resets, newsletters) is queued on the Celery queue
`mail_outbound` and sent through Amazon SES.

| setting | value |
| --- | --- |
| `SES_SENDING_QUOTA` | 50,000 messages a day |
| `SES_MAX_SEND_RATE` | 14 per second |
| `MAIL_RETRY_BACKOFF` | 60, 300, 1800 seconds |

`MessageRejected` from SES means the address is on the suppression list after a hard bounce;
the worker marks it undeliverable and does not retry. A growing queue with no errors means the
sending rate is the bottleneck.

# Thumbnail Worker

Uploaded images are resized on demand by imgproxy behind the CDN.

```env
IMGPROXY_MAX_SRC_RESOLUTION=50
IMGPROXY_ALLOWED_SOURCES=s3://acme-uploads/
IMGPROXY_QUALITY=82
```

Images above 50 megapixels are refused. iPhone photos in HEIC fail with `E_DECODE` because the
library build lacks libheif; until the new image ships, the upload form converts them to JPEG in
the browser.

# Scheduled Jobs

| job | schedule (UTC) | what it does |
| --- | --- | --- |
| `cleanup-sessions` | `0 3 * * *` | deletes sessions older than 30 days |
| `sync-stock` | `*/5 * * * *` | pulls stock levels from the warehouse |
| `invoice-run` | `0 6 1 * *` | creates monthly invoices |
| `backup-nightly` | `30 1 * * *` | see [[Nightly Backup Job]] |

They are Kubernetes CronJobs with `concurrencyPolicy: Forbid`, so a run that overruns makes the
next one skip rather than overlap. Failed runs alert in #ops-alerts.

# Rate Limiting

The public API allows 600 requests a minute per token; nginx enforces it before requests reach the
application.

```nginx
limit_req_zone $http_authorization zone=api:20m rate=10r/s;
limit_req zone=api burst=20 nodelay;
```

Clients over the limit get `429 Too Many Requests` with `Retry-After`; every answer carries
`X-RateLimit-Remaining`. Partners with a contract get a higher limit through the `partner` zone.

# Object Storage Buckets

| bucket | contents | lifecycle | quota |
| --- | --- | --- | --- |
| `acme-uploads` | customer images and files | none | none |
| `acme-backups` | restic repository | noncurrent versions expire after 30 days | 5 TB |
| `acme-logs` | load balancer logs | expire after 90 days | none |

Public access is blocked on every bucket; images reach customers only through the CDN. A bigger
quota is a ticket for the platform team with the expected growth.

# Disk Quotas on Shared Volumes

The shared `/data` volume of the analytics servers has per-team limits with `xfs_quota`.

```bash
xfs_quota -x -c 'report -h' /data
xfs_quota -x -c 'limit -g bsoft=900g bhard=1t analytics' /data
```

A write beyond the hard limit fails with `EDQUOT` ("Disk quota exceeded"). Past the soft limit a
team has a grace period of seven days. Move old notebooks to the archive share rather than asking
for more.

# Error Code Reference

Internal error codes that show up in logs and alerts:

| code | raised by | meaning |
| --- | --- | --- |
| `E_QUOTA` | backup job | storage quota used up |
| `E_LOCKED` | backup job | stale repository lock |
| `E_CHECKSUM` | restore tooling | file contents differ from the snapshot |
| `E_DECODE` | thumbnail worker | image format not supported |
| `E_TIMEOUT` | jobs | time window exceeded |
| `ERR_IMAGE_PULL` | Kubernetes | registry refused the image |
| `EXP-07` | Pleo | receipt missing |

Each code's page has the steps to fix it.

# Postmortem: Expired Certificate

On 14 February the storefront answered with certificate errors for 47 minutes.

| time (UTC) | event |
| --- | --- |
| 08:02 | first customer reports in chat |
| 08:19 | on-call finds the certificate expired at 08:00 |
| 08:35 | manual renewal fails: `too many certificates already issued` |
| 08:49 | switched to a certificate from the second issuer |

Cause: an ingress change a month earlier broke the HTTP-01 challenge, so every renewal failed
silently. Actions: alert when a certificate is less than 14 days from expiry; keep a second issuer
configured.

# Redis Cache

Redis holds sessions, rate-limit counters and page fragments.

| setting | value |
| --- | --- |
| `maxmemory` | 6gb |
| `maxmemory-policy` | `allkeys-lru` |
| persistence | off (a cache; sessions survive in Postgres) |

`OOM command not allowed when used memory > 'maxmemory'` means a client writes keys that the
eviction policy may not remove, usually a job that sets keys with `volatile` expectations on a
misconfigured instance. `redis-cli --bigkeys` finds oversized keys.

# Search Cluster

Product search runs on a three-node Elasticsearch cluster.

- status `yellow`: replicas unassigned, search still works
- status `red`: a primary shard is missing, some products are not found

Most red states come from a full disk: above `cluster.routing.allocation.disk.watermark.high`
(90 %) shards move away, and at the flood stage indices turn read-only. After freeing space, lift
the block with
`PUT _all/_settings {"index.blocks.read_only_allow_delete": null}`.

# Kafka Consumers

Order events flow through the `orders.v1` topic to the fulfilment and analytics consumers.

| consumer group | lag alert at | owner |
| --- | --- | --- |
| `fulfilment` | 1,000 messages | team-orders |
| `analytics-loader` | 500,000 messages | team-data |

A consumer that processes slowly is kicked out of its group when a poll takes longer than
`max.poll.interval.ms` (300000); it rejoins, the group rebalances, and the lag grows in loops.
Lower `max.poll.records` or make the handler faster.

# Secrets Management

Application secrets live in HashiCorp Vault, never in the repository.

```bash
vault login -method=oidc
vault kv get secret/shop/prod/database
```

Pods read them through the Vault agent sidecar, annotated with
`vault.hashicorp.com/agent-inject: "true"`. After a restart Vault is sealed and answers
`Vault is sealed`: three of the five key holders must enter their unseal keys.
"""

KEYWORD_QUERIES = """
Nightly Backup Job | RESTIC_PACK_SIZE
Restoring From Snapshots | recovery_target_time
Offsite Archive | acme-cold-vault
Backup Verification Drill | E_CHECKSUM
Deploy Pipeline | ERR_IMAGE_PULL
Rollback Procedure | rollout undo
Canary Releases | setWeight
Feature Flags | ff_checkout_v2
Postgres Connection Pooling | max_client_conn
Replica Lag | hot_standby_feedback
Schema Migrations | DuplicateColumn
Vacuum and Table Bloat | datfrozenxid
Single Sign-On | NotOnOrAfter
API Tokens | acme_pat_
Two-Factor Enrolment | YubiKey
SSH Access to Servers | ProxyJump
Alert: Disk Almost Full | DiskSpaceCritical
On-Call Rotation | ops-primary
Alert: High Latency | HighP99Latency
Log Retention | acme-audit
VPN Setup | wg-quick
DNS Records | _dmarc
TLS Certificate Renewal | letsencrypt-staging
Firewall Rules | nftables
Expense Claims | EXP-12
New Laptop Setup | Brewfile
Holiday and Leave Policy | Personio
Office Visitors | Acme-Guest
Email Delivery Queue | mail_outbound
Thumbnail Worker | IMGPROXY_MAX_SRC_RESOLUTION
Scheduled Jobs | cleanup-sessions
Rate Limiting | X-RateLimit-Remaining
Object Storage Buckets | acme-logs
Disk Quotas on Shared Volumes | EDQUOT
Error Code Reference | restore tooling
Postmortem: Expired Certificate | 47 minutes
Redis Cache | allkeys-lru
Search Cluster | read_only_allow_delete
Kafka Consumers | max.poll.interval.ms
Secrets Management | agent-inject
"""

PARAPHRASE_QUERIES = """
Nightly Backup Job | duplicating all our information somewhere safe automatically each evening
Restoring From Snapshots | recovering erased rows after an accidental wipe
Offsite Archive | frozen long-term storage you pay to thaw
Backup Verification Drill | rehearsing whether archived information truly comes back intact
Deploy Pipeline | phases from committing code until customers get it
Rollback Procedure | reverting a bad version quickly
Canary Releases | gradually sending users onto a fresh build
Feature Flags | toggles concealing half-built functionality
Postgres Connection Pooling | middleman multiplexing sql links
Replica Lag | follower copy falling behind the leader
Schema Migrations | altering database structure safely
Vacuum and Table Bloat | reclaiming dead tuples that waste space
Single Sign-On | one corporate login across all employee apps
API Tokens | credentials scripts authenticate with
Two-Factor Enrolment | extra verification step using your mobile
SSH Access to Servers | remote terminal onto machines
Alert: Disk Almost Full | storage nearly exhausted on a host
On-Call Rotation | whose turn it is to answer pager emergencies
Alert: High Latency | website responding sluggishly
Log Retention | how long event records are stored
VPN Setup | tunnelling into the corporate intranet from home
DNS Records | hostname entries for our domain
TLS Certificate Renewal | keeping browser padlocks valid
Firewall Rules | blocking and allowing inbound traffic
Expense Claims | reimbursing costs paid out of pocket
New Laptop Setup | preparing a fresh computer
Holiday and Leave Policy | vacation allowance and absence
Office Visitors | hosting outsiders at headquarters
Email Delivery Queue | notifications waiting for dispatch
Thumbnail Worker | shrinking pictures people post
Scheduled Jobs | recurring timed tasks
Rate Limiting | throttling callers who hit us too often
Object Storage Buckets | cloud blob containers
Disk Quotas on Shared Volumes | capping space each group may fill
Error Code Reference | list explaining failure identifiers
Postmortem: Expired Certificate | outage review after browsers distrusted our site
Redis Cache | fast in-ram dictionary server
Search Cluster | machines powering catalogue lookup
Kafka Consumers | programs reading a streamed log of happenings
Secrets Management | storing passwords safely
"""

MIXED_QUERIES = """
Nightly Backup Job | why does the backup fail with E_QUOTA on weekends
Restoring From Snapshots | how do I get a table back using restic restore
Offsite Archive | how long does a Bulk retrieval take from cold storage
Backup Verification Drill | who restored the last backup test and did sha256sum match
Deploy Pipeline | how do I approve a production deploy when DEPLOY_FREEZE is set
Rollback Procedure | can I roll back with helm rollback after a migration
Canary Releases | what happens when the error-ratio analysis aborts a release
Feature Flags | when should I delete an old kill switch flag
Postgres Connection Pooling | why do I get too many clients already although we use pgbouncer
Replica Lag | what should I check when ReplicaLagHigh fires
Schema Migrations | why must a migration set lock_timeout
Vacuum and Table Bloat | how do I shrink a bloated orders table with pg_repack
Single Sign-On | how do I connect a new app to keycloak with SAML_IDP_METADATA_URL
API Tokens | how often are acme_svc_ tokens rotated
Two-Factor Enrolment | what if I lose my phone and have no recovery codes
SSH Access to Servers | how long is the certificate from step ssh login valid
Alert: Disk Almost Full | what can I delete when DiskSpaceLow fires on a server
On-Call Rotation | how much is an on-call week paid and when is the handover
Alert: High Latency | what to do when the storefront p99 is above 800 ms
Log Retention | are audit logs deleted when a customer asks for erasure
VPN Setup | my wireguard connection drops on hotel wifi, is MTU the problem
DNS Records | how do I change the MX record for mail
TLS Certificate Renewal | why is my certificate stuck at Ready False
Firewall Rules | which subnet may reach postgres on port 5432
Expense Claims | what is the hotel limit per night in Zurich
New Laptop Setup | where do I get Docker Desktop on a new MacBook
Holiday and Leave Policy | until when can I take carried over days, is it 31 March
Office Visitors | what time does reception open for guests with an NDA
Email Delivery Queue | why are emails not retried after MessageRejected
Thumbnail Worker | why do HEIC photos fail to get a preview
Scheduled Jobs | what happens when a cronjob overruns with concurrencyPolicy Forbid
Rate Limiting | how many requests per minute before we answer 429
Object Storage Buckets | how big is the quota of acme-backups
Disk Quotas on Shared Volumes | what is the grace period after the soft limit on /data
Error Code Reference | what does E_TIMEOUT mean and which service raises it
Postmortem: Expired Certificate | what caused the certificate outage on 14 February
Redis Cache | why does redis say OOM command not allowed
Search Cluster | why did the search cluster turn red and indices read-only
Kafka Consumers | why does the fulfilment consumer keep rebalancing
Secrets Management | how do I read the database password from vault kv
"""
