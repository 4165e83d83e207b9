// The Windows service host inside build/windows/install-service.ps1, as far as Linux can
// check it: its C# compiles (mono's mcs, against the same .NET Framework APIs), and the
// security descriptor it puts on the control pipe, rendered as SDDL, gives the operators'
// group read/write but not FILE_CREATE_PIPE_INSTANCE (a member could otherwise create a rival
// instance and impersonate the helper), WRITE_DAC or WRITE_OWNER. The pipe and group names
// must be the ones the helper and the app use. Running it on Windows is NOT done here.
// Needs mono-mcs, mono-runtime and libmono-system-serviceprocess4.0-cil.

import assert from 'node:assert/strict';
import { execFile } from 'node:child_process';
import { existsSync } from 'node:fs';
import { mkdtemp, readFile, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import { fileURLToPath } from 'node:url';
import { promisify } from 'node:util';
import { parseConfig } from '../../privileged-helper/config/config.js';
import { WINDOWS_PIPE } from '../../shared/socket-paths.js';

const run = promisify(execFile);
const SCRIPT = fileURLToPath(new URL('../../../build/windows/install-service.ps1', import.meta.url));

const FILE_CREATE_PIPE_INSTANCE = 0x4;
const WRITE_DAC = 0x40000;
const WRITE_OWNER = 0x80000;
const FILE_READ_DATA = 0x1;
const FILE_WRITE_DATA = 0x2;

const SDDL_MAIN = `
using System;
using System.Security.AccessControl;
using System.Security.Principal;
public static class SddlCheck {
  public static void Main() {
    var security = PortSentryHelperService.PipeSecurityFor(new SecurityIdentifier("S-1-5-21-1000-2000-3000-1001"));
    Console.WriteLine(security.GetSecurityDescriptorSddlForm(AccessControlSections.Access));
  }
}`;

describe('the Windows service host (install-service.ps1)', { skip: !existsSync('/usr/bin/mcs') && 'mono-mcs is not installed' }, () => {
  let dir: string;
  let script: string;
  let sddl: string;

  before(async () => {
    dir = await mkdtemp(join(tmpdir(), 'portsentry-winhost-'));
    script = await readFile(SCRIPT, 'utf8');
    const source = /^\$source = @'\r?\n([\s\S]*?)\r?\n'@/m.exec(script)?.[1];
    assert.ok(source !== undefined, 'the C# here-string is in the script');
    await writeFile(join(dir, 'host.cs'), source);
    await writeFile(join(dir, 'check.cs'), SDDL_MAIN);
    await run('mcs', ['-r:System.ServiceProcess.dll', '-r:System.Core.dll', `-out:${join(dir, 'host.exe')}`, join(dir, 'host.cs')]);
    await run('mcs', ['-r:System.ServiceProcess.dll', '-r:System.Core.dll', '-main:SddlCheck', `-out:${join(dir, 'check.exe')}`, join(dir, 'host.cs'), join(dir, 'check.cs')]);
    sddl = String((await run('mono', [join(dir, 'check.exe')])).stdout).trim();
  });

  after(async () => {
    if (dir !== undefined) await rm(dir, { recursive: true, force: true });
  });

  it('compiles, and grants the group read/write on the pipe but never instance creation or the DACL', () => {
    const aces = [...sddl.matchAll(/\(A;;(0x[0-9a-f]+);;;([^)]+)\)/g)].map(([, mask, sid]) => ({ mask: Number(mask), sid }));
    assert.deepEqual(
      aces.map((a) => a.sid),
      ['SY', 'BA', 'S-1-5-21-1000-2000-3000-1001'],
      sddl,
    );
    const group = aces[2]!.mask;
    assert.equal(group & (FILE_READ_DATA | FILE_WRITE_DATA), FILE_READ_DATA | FILE_WRITE_DATA, 'members can send requests');
    assert.equal(group & FILE_CREATE_PIPE_INSTANCE, 0, 'members cannot create a rival pipe instance');
    assert.equal(group & (WRITE_DAC | WRITE_OWNER), 0, "members cannot change the pipe's security");
    assert.ok(/^D:/.test(sddl) && !/WD|AU|IU/.test(sddl), 'nobody else is in the DACL (no Everyone, Authenticated Users, Interactive)');
  });

  it('puts that DACL on the pipe once Node has made it, and creates the group it names', () => {
    // Source checks (Windows-only calls cannot run under mono): the service starts the step,
    // the step opens the pipe with the right to change its DACL and sets PipeSecurityFor(group),
    // and the group is the script's, created by the script with the console user in it.
    const csharp = /^\$source = @'\r?\n([\s\S]*?)\r?\n'@/m.exec(script)![1]!;
    const onStart = /void OnStart\([^)]*\) \{([\s\S]*?)\n {2}\}/.exec(csharp)?.[1] ?? '';
    assert.match(onStart, /new Thread\(GrantPipeToGroup\)[^;]*\.Start\(\);/, 'OnStart runs the step');
    const grant = /void GrantPipeToGroup\(\) \{([\s\S]*?)\n {2}\}/.exec(csharp)?.[1] ?? '';
    assert.match(grant, /new NTAccount\(groupName\)\.Translate\(typeof\(SecurityIdentifier\)\)/);
    assert.match(grant, /new NamedPipeClientStream\("\.", pipeName, [^;]*PipeAccessRights\.ChangePermissions/);
    assert.match(grant, /pipe\.SetAccessControl\(PipeSecurityFor\(group\)\);/);
    assert.match(csharp, /pipeName = args\[0\];\s*groupName = args\[1\];/, 'pipe and group come first on the service command line');
    assert.match(script, /New-LocalGroup -Name \$GroupName\b/);
    assert.match(script, /Add-LocalGroupMember -Group \$GroupName -Member \$consoleUser/);
    const created = script.indexOf('New-LocalGroup');
    assert.ok(created > 0 && created < script.indexOf('Start-Service'), 'the group exists before the service starts');
  });

  it('names the pipe the app connects to and the group the helper grants', () => {
    assert.equal(`\\\\.\\pipe\\${/^\$PipeName = '([^']+)'/m.exec(script)?.[1]}`, WINDOWS_PIPE);
    assert.equal(/^\$GroupName = '([^']+)'/m.exec(script)?.[1], parseConfig('', 'empty.conf').rpcGroup);
    assert.match(script, /\$binaryPath = \('"\{0\}" "\{1\}" "\{2\}" "\{3\}" "\{4\}"[^\n]*-f \$HostExe, \$PipeName, \$GroupName, \$Node, \$Daemon, \$Config\)/);
  });
});
