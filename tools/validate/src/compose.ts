/**
 * docker-compose files: a light structural check (Compose Specification subset): services with an
 * image or a build, ports as strings, volumes, environment, depends_on naming real services.
 */
import Ajv from 'ajv';
import type { Issue, PathSeg } from './issues';
import { ajvIssues } from './istio';

const stringList = { type: 'array', items: { type: 'string' } };
const stringOrList = { anyOf: [{ type: 'string' }, stringList] };
const PORT = '^(?:(?:\\d{1,3}(?:\\.\\d{1,3}){3}|\\[[0-9A-Fa-f:]+\\]|[A-Za-z0-9.-]+):)?(?:\\d{1,5}(?:-\\d{1,5})?:)?\\d{1,5}(?:-\\d{1,5})?(?:/(?:tcp|udp|sctp))?$';

const serviceSchema = {
  type: 'object',
  additionalProperties: false,
  patternProperties: { '^x-': {} },
  anyOf: [{ required: ['image'] }, { required: ['build'] }],
  properties: {
    image: { type: 'string', minLength: 1 },
    build: {
      anyOf: [
        { type: 'string' },
        {
          type: 'object',
          additionalProperties: false,
          properties: { context: { type: 'string' }, dockerfile: { type: 'string' }, args: { type: ['object', 'array'] }, target: { type: 'string' }, labels: { type: ['object', 'array'] }, platforms: stringList, tags: stringList },
        },
      ],
    },
    command: stringOrList,
    entrypoint: stringOrList,
    environment: {
      anyOf: [{ type: 'object', additionalProperties: { type: ['string', 'number', 'boolean', 'null'] } }, stringList],
    },
    env_file: stringOrList,
    ports: {
      type: 'array',
      items: {
        anyOf: [
          { type: 'string', pattern: PORT },
          {
            type: 'object',
            additionalProperties: false,
            required: ['target'],
            properties: { target: { type: ['integer', 'string'] }, published: { type: ['integer', 'string'] }, host_ip: { type: 'string' }, protocol: { type: 'string' }, mode: { type: 'string' }, name: { type: 'string' }, app_protocol: { type: 'string' } },
          },
        ],
      },
    },
    expose: { type: 'array', items: { type: ['string', 'integer'] } },
    volumes: {
      type: 'array',
      items: {
        anyOf: [
          { type: 'string', minLength: 1 },
          {
            type: 'object',
            required: ['type', 'target'],
            properties: { type: { enum: ['bind', 'volume', 'tmpfs', 'npipe', 'cluster', 'image'] }, source: { type: 'string' }, target: { type: 'string' }, read_only: { type: 'boolean' } },
          },
        ],
      },
    },
    depends_on: { anyOf: [stringList, { type: 'object' }] },
    networks: { anyOf: [stringList, { type: 'object' }] },
    network_mode: { type: 'string' },
    restart: { enum: ['no', 'always', 'on-failure', 'unless-stopped'] },
    healthcheck: {
      type: 'object',
      additionalProperties: false,
      properties: { test: stringOrList, interval: { type: 'string' }, timeout: { type: 'string' }, retries: { type: 'integer' }, start_period: { type: 'string' }, start_interval: { type: 'string' }, disable: { type: 'boolean' } },
    },
    container_name: { type: 'string' },
    hostname: { type: 'string' },
    working_dir: { type: 'string' },
    user: { type: 'string' },
    labels: { type: ['object', 'array'] },
    extra_hosts: { type: ['object', 'array'] },
    profiles: stringList,
    deploy: { type: 'object' },
    logging: { type: 'object' },
    cap_add: stringList,
    cap_drop: stringList,
    read_only: { type: 'boolean' },
    tmpfs: stringOrList,
    ulimits: { type: 'object' },
    init: { type: 'boolean' },
    stop_signal: { type: 'string' },
    stop_grace_period: { type: 'string' },
    platform: { type: 'string' },
    pull_policy: { type: 'string' },
    tty: { type: 'boolean' },
    stdin_open: { type: 'boolean' },
    security_opt: stringList,
    shm_size: { type: ['string', 'integer'] },
    mem_limit: { type: ['string', 'integer'] },
    cpus: { type: ['string', 'number'] },
    configs: { type: 'array' },
    secrets: { type: 'array' },
    sysctls: { type: ['object', 'array'] },
    privileged: { type: 'boolean' },
    devices: { type: 'array' },
    dns: stringOrList,
    extends: { type: ['object', 'string'] },
  },
};

const composeSchema = {
  type: 'object',
  additionalProperties: false,
  patternProperties: { '^x-': {} },
  required: ['services'],
  properties: {
    version: { type: 'string' },
    name: { type: 'string', pattern: '^[a-z0-9][a-z0-9_-]*$' },
    services: { type: 'object', minProperties: 1, additionalProperties: serviceSchema },
    networks: { type: ['object', 'null'] },
    volumes: { type: ['object', 'null'] },
    configs: { type: ['object', 'null'] },
    secrets: { type: ['object', 'null'] },
  },
};

let validator: ReturnType<Ajv['compile']> | undefined;

export interface ComposeReport {
  issues: Issue[];
  services: string[];
}

export function validateCompose(value: unknown, file: string): ComposeReport {
  if (!validator) validator = new Ajv({ allErrors: true, strict: true, strictRequired: false, allowUnionTypes: true }).compile(composeSchema);
  const issues: Issue[] = [];
  const explained = new Set<string>();
  const svcs = typeof value === 'object' && value !== null ? (value as Record<string, unknown>).services : undefined;
  for (const [name, svc] of Object.entries(typeof svcs === 'object' && svcs !== null ? svcs : {})) {
    const ports = typeof svc === 'object' && svc !== null ? (svc as Record<string, unknown>).ports : undefined;
    if (!Array.isArray(ports)) continue;
    ports.forEach((p, i) => {
      const path: PathSeg[] = ['services', name, 'ports', i];
      if (typeof p !== 'number') return;
      issues.push({ severity: 'error', file, path, message: `port ${p} must be a string (quote it: "${p}")` });
      explained.add(JSON.stringify(path));
    });
  }
  if (!validator(value)) {
    const raw = ajvIssues(validator.errors, file, []);
    // anyOf alternatives produce one error per branch; keep the most specific ones per path.
    const byPath = new Map<string, Issue[]>();
    for (const i of raw) {
      const k = JSON.stringify(i.path);
      if (explained.has(k)) continue;
      byPath.set(k, [...(byPath.get(k) ?? []), i]);
    }
    for (const list of byPath.values()) {
      const specific = list.filter((i) => !/must match "anyOf" schema/.test(i.message));
      issues.push(...(specific.length ? specific : list).slice(0, 2));
    }
  }
  const services = typeof value === 'object' && value !== null ? ((value as Record<string, unknown>).services as Record<string, unknown> | undefined) : undefined;
  const names = services && typeof services === 'object' ? Object.keys(services) : [];
  for (const [name, svc] of Object.entries(services ?? {})) {
    if (typeof svc !== 'object' || svc === null) continue;
    const s = svc as Record<string, unknown>;
    const deps = Array.isArray(s.depends_on) ? s.depends_on : s.depends_on && typeof s.depends_on === 'object' ? Object.keys(s.depends_on) : [];
    for (const d of deps) {
      if (typeof d === 'string' && !names.includes(d)) issues.push({ severity: 'error', file, path: ['services', name, 'depends_on'], message: `depends on service "${d}", which is not defined` });
    }
  }
  return { issues, services: names };
}
