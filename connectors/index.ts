import { awsBackup } from './aws-backup/index.ts';
import { awsIam } from './aws-iam/index.ts';
import { awsIdentityCenter } from './aws-identity-center/index.ts';
import { bambooHr } from './bamboohr/index.ts';
import { connectorRegistry, type AnyConnector } from './contract.ts';
import { gitHub } from './github/index.ts';
import { googleWorkspace } from './google-workspace/index.ts';
import { hrCsv } from './hr-csv/index.ts';
import { identityCsv } from './identity-csv/index.ts';
import { microsoftGraph } from './microsoft-graph/index.ts';
import { okta } from './okta/index.ts';
import { riskRegister } from './risk-register/index.ts';
import { scannerFiles } from './scanner-files/index.ts';
import { supplierRegister } from './supplier-register/index.ts';
import { trainingCsv } from './training-csv/index.ts';

/** Every connector this build ships; config names them by `name`. */
export const builtinConnectors: readonly AnyConnector[] = [
  awsIam,
  awsIdentityCenter,
  googleWorkspace,
  microsoftGraph,
  gitHub,
  okta,
  hrCsv,
  identityCsv,
  bambooHr,
  awsBackup,
  scannerFiles,
  riskRegister,
  supplierRegister,
  trainingCsv,
];

export const defaultConnectors = connectorRegistry(builtinConnectors);
