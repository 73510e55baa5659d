// Every function a template can call, by name: Go's predefined functions and Sprig v3.3.0's
// and ESO's, one file per topic. Go's builtins come last: where Sprig has the same name (printf),
// both are fmt's and Go's is kept.
import type { TemplateFunction } from '../execute.ts';
import { builtins } from './builtins.ts';
import { caseFunctions } from './case-conversion.ts';
import { certificateFunctions } from './crypto/certificates.ts';
import { cipherFunctions } from './crypto/ciphers.ts';
import { jwkFunctions } from './crypto/jwk.ts';
import { keyFunctions } from './crypto/keys.ts';
import { pemFunctions } from './crypto/pem.ts';
import { pkcs12Functions } from './crypto/pkcs12.ts';
import { x509Functions } from './crypto/x509.ts';
import { dateFunctions } from './dates.ts';
import { dictFunctions } from './dicts.ts';
import { encodingFunctions } from './encoding.ts';
import { hashingFunctions } from './hashing.ts';
import { listFunctions } from './lists.ts';
import { logicFunctions } from './logic.ts';
import { mathFunctions } from './math.ts';
import { passwordFunctions } from './passwords.ts';
import { pathFunctions } from './paths.ts';
import { randomFunctions } from './random.ts';
import { reflectionFunctions } from './reflection.ts';
import { regexFunctions } from './regex.ts';
import { semverFunctions } from './semver.ts';
import { stringFunctions } from './strings.ts';
import { urlFunctions } from './url.ts';
import { wordFunctions } from './words.ts';

/** The functions of each topic, by the file that holds them. */
export const FUNCTIONS_BY_TOPIC: Record<string, Record<string, TemplateFunction>> = {
  strings: stringFunctions,
  words: wordFunctions,
  caseConversion: caseFunctions,
  lists: listFunctions,
  dicts: dictFunctions,
  logic: logicFunctions,
  reflection: reflectionFunctions,
  math: mathFunctions,
  encoding: encodingFunctions,
  regex: regexFunctions,
  paths: pathFunctions,
  url: urlFunctions,
  semver: semverFunctions,
  dates: dateFunctions,
  random: randomFunctions,
  hashing: hashingFunctions,
  passwords: passwordFunctions,
  pem: pemFunctions,
  keys: keyFunctions,
  x509: x509Functions,
  certificates: certificateFunctions,
  pkcs12: pkcs12Functions,
  ciphers: cipherFunctions,
  jwk: jwkFunctions,
  builtins,
};

export const FUNCTIONS: Record<string, TemplateFunction> = Object.assign({}, ...Object.values(FUNCTIONS_BY_TOPIC));
