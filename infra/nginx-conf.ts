/**
 * nginx.conf text of the CDN tier (docs/decisions/024-cdn.md): the caches in front of the artifact
 * origin (`GET /v1/artifacts/<sha256>/content`), and a static origin the tests and benchmarks may
 * serve files with. `cdnLocation` is the one block both the suite's caches and compose's
 * (deploy/nginx/cdn.conf) use; a test keeps the two the same.
 */

/** Slices the caches fetch and store an artifact in: a cut download or a range costs ≤ 1 MiB from the origin. */
export const CDN_SLICE = '1m';

/** One JSON object per request: what the tests and the benchmark count. */
export const ACCESS_LOG_FORMAT =
  `log_format cdn escape=json '{"status":$status,"bytes":$body_bytes_sent,"cache":"$upstream_cache_status",` +
  `"range":"$http_range","uri":"$uri","seconds":$request_time}';`;

export interface CdnLocationOptions {
  /** `http(s)://host:port` of the origin (a gateway, or HAProxy in front of them). */
  readonly origin: string;
  /** The CA the origin's certificate must chain to (HTTPS origins; none: plain HTTP). */
  readonly originCa?: string;
  /** The name the origin's certificate must carry (default: the origin's host; for an IP origin, a name). */
  readonly originServerName?: string;
  /** proxy_cache zone name (default `artifacts`). */
  readonly zone?: string;
}

/**
 * The caching location: each artifact fetched from the origin in 1 MiB slices (`Range:
 * $slice_range`), every slice cached under its own key (the path is the content's hash, so the
 * query is left out), 200 and 206 kept a year, and one request per cold slice going to the
 * origin while the others wait for it (`proxy_cache_lock`): a herd costs the origin one copy.
 */
export function cdnLocation(o: CdnLocationOptions): string {
  const zone = o.zone ?? 'artifacts';
  const tls =
    o.originCa === undefined
      ? []
      : [
          `proxy_ssl_trusted_certificate ${o.originCa};`,
          'proxy_ssl_verify on;',
          'proxy_ssl_verify_depth 3;',
          'proxy_ssl_server_name on;',
          ...(o.originServerName === undefined ? [] : [`proxy_ssl_name ${o.originServerName};`]),
          'proxy_ssl_session_reuse on;',
        ];
  return [
    'location ~ "^/v1/artifacts/[0-9a-f]{64}/content$" {',
    ...[
      'limit_except GET { deny all; }',
      `slice ${CDN_SLICE};`,
      `proxy_cache ${zone};`,
      'proxy_cache_key $uri$slice_range;',
      'proxy_set_header Range $slice_range;',
      'proxy_cache_valid 200 206 365d;',
      'proxy_cache_lock on;',
      'proxy_cache_lock_timeout 60s;',
      'proxy_cache_lock_age 60s;',
      'proxy_cache_use_stale error timeout updating;',
      'proxy_ignore_headers Set-Cookie;',
      'proxy_http_version 1.1;',
      'proxy_set_header Connection "";',
      'proxy_connect_timeout 5s;',
      'proxy_read_timeout 30s;',
      'add_header X-Cache-Status $upstream_cache_status always;',
      // Public, immutable bytes: wall screens (browser pages on the gateway's origin) fetch them too.
      'proxy_hide_header Access-Control-Allow-Origin;',
      'add_header Access-Control-Allow-Origin "*" always;',
      ...tls,
      `proxy_pass ${o.origin.replace(/\/+$/, '')};`,
    ].map((line) => `  ${line}`),
    '}',
  ].join('\n');
}

export interface NginxPaths {
  /** The prefix: pid, temp folders, cache and logs live under it. */
  readonly dir: string;
  /** `host:port` or `port` to listen on. */
  readonly listen: string;
  /** The listener's certificate and key (HTTPS); none: plain HTTP. */
  readonly tls?: { readonly certFile: string; readonly keyFile: string };
  /** Run the workers as this user (only when started as root). */
  readonly user?: string;
}

function frame(p: NginxPaths, http: string[], server: string[]): string {
  const listen = p.tls === undefined ? `listen ${p.listen};` : `listen ${p.listen} ssl;`;
  const tls =
    p.tls === undefined
      ? []
      : [
          `ssl_certificate ${p.tls.certFile};`,
          `ssl_certificate_key ${p.tls.keyFile};`,
          'ssl_protocols TLSv1.2 TLSv1.3;',
        ];
  const indent = (lines: string[], n: number) =>
    lines.flatMap((l) => l.split('\n')).map((l) => ' '.repeat(n) + l);
  return [
    'daemon off;',
    'master_process on;',
    'worker_processes 1;',
    ...(p.user === undefined ? [] : [`user ${p.user};`]),
    `pid ${p.dir}/nginx.pid;`,
    `error_log ${p.dir}/error.log warn;`,
    'events { worker_connections 4096; }',
    'http {',
    ...indent(
      [
        'default_type application/octet-stream;',
        'sendfile on;',
        'server_tokens off;',
        `client_body_temp_path ${p.dir}/tmp/body;`,
        `proxy_temp_path ${p.dir}/tmp/proxy;`,
        `fastcgi_temp_path ${p.dir}/tmp/fastcgi;`,
        `uwsgi_temp_path ${p.dir}/tmp/uwsgi;`,
        `scgi_temp_path ${p.dir}/tmp/scgi;`,
        ACCESS_LOG_FORMAT,
        `access_log ${p.dir}/access.log cdn;`,
        ...http,
        'server {',
        ...indent([listen, ...tls, ...server, 'location / { return 404; }'], 2),
        '}',
      ],
      2,
    ),
    '}',
    '',
  ].join('\n');
}

/** A whole nginx.conf of a cache in front of `origin`, everything under `dir`. */
export function cacheConf(p: NginxPaths & CdnLocationOptions & { readonly maxSize?: string }): string {
  return frame(
    p,
    [
      `proxy_cache_path ${p.dir}/cache levels=1:2 keys_zone=${p.zone ?? 'artifacts'}:16m max_size=${p.maxSize ?? '10g'} inactive=30d use_temp_path=off;`,
    ],
    [cdnLocation(p)],
  );
}

/**
 * A whole nginx.conf of a static origin: `/v1/artifacts/<sha256>/content` is the file `<root>/<sha256>`
 * (nginx answers ranges with 206 and a stable ETag, as the gateway's route does).
 */
export function staticOriginConf(p: NginxPaths & { readonly root: string }): string {
  return frame(
    p,
    [],
    [
      'location ~ "^/v1/artifacts/([0-9a-f]{64})/content$" {',
      `  alias ${p.root}/$1;`,
      '  add_header Cache-Control "public, max-age=31536000, immutable";',
      '}',
    ],
  );
}
