#Requires -Version 5.1
<#
.SYNOPSIS
    SET-04: read what the technical document says about a Windows server, in one pass. Reads only.

.DESCRIPTION
    Returns the raw properties of each CIM class or cmdlet under their own names, enums as
    their numbers (as ConvertTo-Json writes them in Windows PowerShell 5.1), so that nothing
    depends on the server's display language:
      computer   Win32_ComputerSystem: Name, Domain, PartOfDomain, DomainRole (0-5),
                 Manufacturer, Model, HypervisorPresent
      os         Win32_OperatingSystem: Caption, Version, BuildNumber, ProductType
      features   Get-WindowsFeature, installed only: Name (the locale-independent id)
      shares     Get-SmbShare: Name, Path, Special, ShareType (0 FileSystemDirectory ...)
      logon      the NETLOGON share's script files (names only)
      services   Win32_Service: Name, StartMode (Auto, Manual, Disabled), State
      addresses  Get-NetIPAddress: IPAddress, AddressFamily (2 IPv4, 23 IPv6), PrefixOrigin
      printers   Get-Printer: Name, DriverName, PortName, Type (0 local, 1 connection), Shared
      ups        Win32_Battery: Name, BatteryStatus
      updates    the Windows Update policy keys under HKLM:\SOFTWARE\Policies\Microsoft\Windows\WindowsUpdate
    module_utils/preventcare_technical.py shapes it (windows_host).

    NOT RUN HERE: no Windows host and no PowerShell exist where this project is built. The
    output format is pinned by tests/fixtures/windows/technical/, built from Microsoft's
    documentation of each class and cmdlet (see the fixtures' _source).

.NOTES
    ansible.windows.win_powershell, with:
      path: scripts/windows/technical_facts.ps1
      depth: 4
    SupportsShouldProcess lets it run in check mode: it changes nothing.
#>
[CmdletBinding(SupportsShouldProcess)]
param()
$ErrorActionPreference = 'Stop'
$errors = [System.Collections.Generic.List[object]]::new()

# One broken source must not hide the others.
function Get-Part([string]$Name, [scriptblock]$Block) {
    try { & $Block }
    catch {
        $errors.Add([ordered]@{
                section = $Name
                error   = $_.Exception.Message
                hresult = ('0x{0:X8}' -f $_.Exception.HResult)
            })
        $null
    }
}

$computer = Get-Part 'computer' {
    Get-CimInstance -ClassName Win32_ComputerSystem |
        Select-Object -Property @('Name', 'DNSHostName', 'Domain', 'PartOfDomain', 'DomainRole',
            'Manufacturer', 'Model', 'HypervisorPresent')
}
$os = Get-Part 'os' {
    Get-CimInstance -ClassName Win32_OperatingSystem |
        Select-Object -Property @('Caption', 'Version', 'BuildNumber', 'ProductType')
}
# Get-WindowsFeature exists on Windows Server only (ServerManager module).
$features = Get-Part 'features' {
    @(Get-WindowsFeature | Where-Object { $_.Installed } | ForEach-Object { $_.Name })
}
$shares = Get-Part 'shares' {
    @(Get-SmbShare | ForEach-Object {
            [ordered]@{
                Name      = $_.Name
                Path      = $_.Path
                Special   = [bool]$_.Special
                ShareType = [int]$_.ShareType
            }
        })
}
$logon = Get-Part 'logon' {
    $netlogon = Get-SmbShare -Name 'NETLOGON' -ErrorAction SilentlyContinue
    if ($netlogon) {
        @(Get-ChildItem -LiteralPath $netlogon.Path -File -Recurse -Include @('*.bat', '*.cmd', '*.ps1', '*.vbs', '*.kix') |
                ForEach-Object { $_.FullName.Substring($netlogon.Path.Length).TrimStart('\') })
    }
    else { @() }
}
$services = Get-Part 'services' {
    @(Get-CimInstance -ClassName Win32_Service | ForEach-Object {
            [ordered]@{ Name = $_.Name; StartMode = $_.StartMode; State = $_.State }
        })
}
$addresses = Get-Part 'addresses' {
    @(Get-NetIPAddress | ForEach-Object {
            [ordered]@{
                InterfaceAlias = $_.InterfaceAlias
                IPAddress      = $_.IPAddress
                PrefixLength   = [int]$_.PrefixLength
                AddressFamily  = [int]$_.AddressFamily
                PrefixOrigin   = [int]$_.PrefixOrigin
            }
        })
}
$printers = Get-Part 'printers' {
    @(Get-Printer | ForEach-Object {
            [ordered]@{
                Name       = $_.Name
                DriverName = $_.DriverName
                PortName   = $_.PortName
                Type       = [int]$_.Type
                Shared     = [bool]$_.Shared
            }
        })
}
$ups = Get-Part 'ups' {
    @(Get-CimInstance -ClassName Win32_Battery | ForEach-Object {
            [ordered]@{ Name = $_.Name; BatteryStatus = [int]$_.BatteryStatus }
        })
}
$updates = Get-Part 'updates' {
    $policy = 'HKLM:\SOFTWARE\Policies\Microsoft\Windows\WindowsUpdate'
    $found = [ordered]@{ WUServer = $null; AUOptions = $null; NoAutoUpdate = $null; ScheduledInstallDay = $null; ScheduledInstallTime = $null }
    if (Test-Path -LiteralPath $policy) {
        $found.WUServer = (Get-ItemProperty -LiteralPath $policy -ErrorAction SilentlyContinue).WUServer
    }
    if (Test-Path -LiteralPath "$policy\AU") {
        $au = Get-ItemProperty -LiteralPath "$policy\AU"
        foreach ($name in @('AUOptions', 'NoAutoUpdate', 'ScheduledInstallDay', 'ScheduledInstallTime')) {
            if ($null -ne $au.$name) { $found[$name] = [int]$au.$name }
        }
    }
    $found
}

[ordered]@{
    platform  = 'windows'
    computer  = $computer
    os        = $os
    features  = $features
    shares    = $shares
    logon     = $logon
    services  = $services
    addresses = $addresses
    printers  = $printers
    ups       = $ups
    updates   = $updates
    errors    = $errors
}
