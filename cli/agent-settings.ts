/** The settings of `devicehub agent`, the on-device agent. */

import { hostPorts, nonEmpty, ranged, type Setting, url } from './setting-checks.ts';

export const AGENT_SETTINGS: readonly Setting[] = [
  {
    name: 'DH_AGENT_CONFIG',
    commands: ['agent'],
    doc: 'the agent’s configuration file (JSON; --config)',
    check: nonEmpty,
  },
  { name: 'DH_AGENT_EDGE_ID', commands: ['agent'], doc: 'the edge’s id (its broker user)', check: nonEmpty },
  { name: 'DH_AGENT_PASSWORD', commands: ['agent'], doc: 'the edge’s broker password', check: nonEmpty },
  {
    name: 'DH_AGENT_BROKER_URL',
    commands: ['agent'],
    doc: 'broker until the configuration names one: mqtt://…, kafka://host:port,… or kafkas://host:port,… (SASL_SSL: SCRAM-SHA-512 as the edge, TLS checked against DH_AGENT_CA_FILE)',
    check: (v) => {
      const kafka = /^(kafkas?):\/\/(.*)$/.exec(v);
      return kafka
        ? hostPorts(kafka[2]!) && `expected ${kafka[1]}://host:port,host:port,…`
        : url('mqtt:', 'mqtts:', 'ws:', 'wss:')(v);
    },
  },
  {
    name: 'DH_AGENT_CONFIG_URL',
    commands: ['agent'],
    doc: 'base URL of the configuration service (the gateway; none: no polling)',
    check: url('http:', 'https:'),
  },
  {
    name: 'DH_AGENT_CA_FILE',
    commands: ['agent'],
    doc: 'the CA (PEM file; the fleet CA) the configuration service’s certificate must chain to',
    check: nonEmpty,
  },
  {
    name: 'DH_AGENT_CERT_FILE',
    commands: ['agent'],
    doc: 'the edge’s client certificate (PEM file) for the broker’s mTLS listener (with DH_AGENT_KEY_FILE)',
    check: nonEmpty,
  },
  {
    name: 'DH_AGENT_KEY_FILE',
    commands: ['agent'],
    doc: 'the key of DH_AGENT_CERT_FILE (PEM)',
    check: nonEmpty,
  },
  { name: 'DH_AGENT_DATA_DIR', commands: ['agent'], doc: 'where the agent keeps its queue', check: nonEmpty },
  {
    name: 'DH_AGENT_LOCAL_PORT',
    commands: ['agent'],
    doc: 'loopback port of the local input for elenet and litefcccore (0: none)',
    ...ranged(0, 65535),
  },
  {
    name: 'DH_AGENT_FRAMES_SOURCE',
    commands: ['agent'],
    doc: 'where elenet leaves its candidate frames (a directory of JPEGs, or one file): a vision alarm’s are uploaded (the file’s frames section; none: no frames)',
    check: nonEmpty,
  },
  { name: 'DH_AGENT_FRPC', commands: ['agent'], doc: 'the frpc binary tunnels run', check: nonEmpty },
  {
    name: 'DH_AGENT_TUNNEL_TOKEN',
    commands: ['agent'],
    doc: 'frps’s token (tunnels need it and frpc)',
    check: nonEmpty,
  },
];
