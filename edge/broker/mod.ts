/**
 * The broker's identities: who may connect to mosquitto and what each may do (one client and role
 * per edge, the hub's links, the admin), the dynamic-security file written before a start, and
 * the admin client the gateway keeps them in line with the registry through.
 */

export type { EdgeCredentials } from './broker-identities.ts';
export { BrokerIdentities } from './broker-identities.ts';
export type {
  BrokerAdminErrorCode,
  DynsecClientOptions,
  DynsecCommand,
  DynsecResponse,
} from './dynsec-client.ts';
export { BrokerAdminError, DynsecClient } from './dynsec-client.ts';
export type { DynsecConfigOptions, DynsecPassword } from './dynsec-config.ts';
export { dynsecConfig, hashDynsecPassword } from './dynsec-config.ts';
export type { Acl, AclType } from './identities.ts';
export {
  ADMIN_ROLE,
  ADMIN_USER,
  CONTROL_RESPONSE_TOPIC,
  CONTROL_TOPIC,
  edgeAcls,
  edgeRoleName,
  isEdgeUser,
  LINK_ACLS,
  LINK_ROLE,
  LINK_USER,
} from './identities.ts';
