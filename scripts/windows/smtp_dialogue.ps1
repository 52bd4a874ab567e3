#Requires -Version 5.1
<#
.SYNOPSIS
    PRE-01: SMTP dialogue from a Windows server with the client's relay. Gathers evidence only.

.DESCRIPTION
    Same steps and field names as module_utils/preventcare_smtp.py (run_dialogue): connect, [tls_handshake],
    banner, ehlo (helo fallback), starttls + tls_handshake + ehlo, [auth], mail, rcpt, data + message or rset,
    quit. Each step: step, command, code, reply (lines without the code), elapsed_ms and, when it raised,
    error = type, code (SocketException.ErrorCode), name (SocketError), reason (TLS policy errors),
    hresult (Exception.HResult, 0x........), native (Win32Exception.NativeErrorCode under a TLS failure,
    e.g. SEC_E_ILLEGAL_MESSAGE), message.
    The controller judges the transcript with preventcare_smtp.summarize(); judgement uses the numeric codes
    and enum names only, never the messages, which Windows localises.

    NOT RUN HERE: no Windows host and no PowerShell exist where this project is built. The output format is
    pinned by tests/fixtures/windows/smtp/*.json, built from documentation (see their _source).

.NOTES
    ansible.windows.win_powershell, with:
      path: scripts/windows/smtp_dialogue.ps1
      depth: 6                        # the transcript nests 4 levels
      parameters: {SmtpHost: ..., Port: ..., Tls: ..., Sender: ..., Recipient: ...}
      sensitive_parameters: [{name: Credential, username: ..., password: ...}]   # never in args or logs
    CaPem is the text of the contract's smtp_relay.ca_path (PEM, one or more CA certificates), read on
    the controller and passed as a parameter: nothing is written on the server, and the relay's private
    CA need not be in the machine store. Dates are written in the invariant culture.
    In check mode -WhatIf is set (SupportsShouldProcess): the dialogue runs but DATA is never sent.
#>
[CmdletBinding(SupportsShouldProcess)]
param(
    [Parameter(Mandatory)][string]$SmtpHost,
    [int]$Port = 0,
    [ValidateSet('none', 'starttls', 'tls')][string]$Tls = 'starttls',
    [bool]$ValidateCerts = $true,
    [string]$CaPem,
    [pscredential]$Credential,
    [Parameter(Mandatory)][string]$Sender,
    [Parameter(Mandatory)][string]$Recipient,
    [bool]$SendTestMessage = $false,
    [string]$HeloName = [System.Net.Dns]::GetHostEntry('').HostName,
    [int]$TimeoutSeconds = 10
)
$ErrorActionPreference = 'Stop'
if ($Port -eq 0) { $Port = @{ none = 25; starttls = 587; tls = 465 }[$Tls] }
$Steps = [System.Collections.Generic.List[object]]::new()
$State = @{ client = $null; reader = $null; writer = $null; tls = $null; tlsReason = $null; peer = $null }
$Secrets = @()

# The CA certificates of $CaPem (PEM blocks, DER inside), for a relay signed by a private CA.
$TrustedCas = @()
if ($CaPem) {
    $TrustedCas = @([regex]::Matches($CaPem, '-----BEGIN CERTIFICATE-----([A-Za-z0-9+/=\s]+)-----END CERTIFICATE-----') |
            ForEach-Object {
                $der = [System.Convert]::FromBase64String(($_.Groups[1].Value -replace '\s', ''))
                [System.Security.Cryptography.X509Certificates.X509Certificate2]::new($der)
            })
}
$Invariant = [System.Globalization.CultureInfo]::InvariantCulture

function Add-Step([string]$Name, $Command) {
    $entry = [ordered]@{ step = $Name; command = $Command; code = $null; reply = @(); elapsed_ms = 0 }
    $Steps.Add($entry)
    $script:Watch = [System.Diagnostics.Stopwatch]::StartNew()
    return $entry
}

# The mask of module_utils/preventcare_secrets.py (MASK), the same on every platform.
$Mask = '********'

function Hide([string]$Text) {
    foreach ($s in $Secrets) { if ($s) { $Text = $Text.Replace($s, $Mask) } }
    return $Text
}

# Sends $Line (unless null), reads one reply; returns the code. $Shown is what the transcript keeps.
function Invoke-Smtp([string]$Name, $Line, $Shown = $Line) {
    $entry = Add-Step $Name $Shown
    if ($Line) { $State.writer.Write($Line + "`r`n"); $State.writer.Flush() }
    $lines = @()
    do {
        $text = $State.reader.ReadLine()
        if ($null -eq $text) { throw [System.IO.EndOfStreamException]::new('connection closed by the server') }
        $text = Hide $text
        if ($text -notmatch '^\d{3}([ -]|$)') { throw [System.FormatException]::new("not an SMTP reply: $text") }
        $lines += $text.Substring([Math]::Min(4, $text.Length))
    } while ($text.Length -gt 3 -and $text[3] -eq '-')
    $entry.code = [int]$text.Substring(0, 3)
    $entry.reply = $lines
    $entry.elapsed_ms = $script:Watch.ElapsedMilliseconds
    return $entry.code
}

function Open-Streams([System.IO.Stream]$Stream) {
    $encoding = [System.Text.UTF8Encoding]::new($false)
    $State.reader = [System.IO.StreamReader]::new($Stream, $encoding)
    $State.writer = [System.IO.StreamWriter]::new($Stream, $encoding)
}

function Start-Tls {
    $entry = Add-Step 'tls_handshake' $null
    $callback = [System.Net.Security.RemoteCertificateValidationCallback] {
        param($s, $certificate, $chain, [System.Net.Security.SslPolicyErrors]$errors)
        $State.peer = [System.Security.Cryptography.X509Certificates.X509Certificate2]::new($certificate)
        if (-not $ValidateCerts -or $errors -eq 'None') { return $true }
        if ($TrustedCas.Count -gt 0 -and $errors -eq 'RemoteCertificateChainErrors') {
            # Private CA: the chain must end at exactly one of the contract's CAs.
            $chain = [System.Security.Cryptography.X509Certificates.X509Chain]::new()
            $chain.ChainPolicy.RevocationMode = 'NoCheck'
            $chain.ChainPolicy.VerificationFlags = 'AllowUnknownCertificateAuthority'
            foreach ($ca in $TrustedCas) { [void]$chain.ChainPolicy.ExtraStore.Add($ca) }
            $root = $null
            if ($chain.Build($State.peer)) { $root = $chain.ChainElements[$chain.ChainElements.Count - 1].Certificate.Thumbprint }
            if ($root -and @($TrustedCas | Where-Object { $_.Thumbprint -eq $root }).Count -gt 0) {
                return $true
            }
        }
        $State.tlsReason = (@([string]$errors) + @($chain.ChainStatus | ForEach-Object { [string]$_.Status })) -join ', '
        return $false
    }
    $ssl = [System.Net.Security.SslStream]::new($State.client.GetStream(), $false, $callback)
    # TLS 1.2, and 1.3 where Schannel has it (Windows Server 2022, build 20348, and later: "TLS 1.3 in
    # Schannel", Protocols in TLS/SSL (Schannel SSP), Microsoft Learn) and .NET names it (4.8+). Never
    # the OS default set, which on older servers still includes SSL3/TLS 1.0.
    $protocols = [System.Security.Authentication.SslProtocols]::Tls12
    $build = [System.Environment]::OSVersion.Version.Build
    if ($build -ge 20348 -and [enum]::GetNames([System.Security.Authentication.SslProtocols]) -contains 'Tls13') {
        $protocols = $protocols -bor [System.Security.Authentication.SslProtocols]'Tls13'
    }
    $ssl.AuthenticateAsClient($SmtpHost, $null, $protocols, $false)
    $entry.elapsed_ms = $script:Watch.ElapsedMilliseconds
    $version = @{ Tls = 'TLSv1'; Tls11 = 'TLSv1.1'; Tls12 = 'TLSv1.2'; Tls13 = 'TLSv1.3' }[[string]$ssl.SslProtocol]
    $State.tls = [ordered]@{
        version          = $version
        cipher           = '{0}-{1} {2}' -f $ssl.CipherAlgorithm, $ssl.CipherStrength, $ssl.HashAlgorithm
        peer_certificate = [ordered]@{
            sha256    = [System.BitConverter]::ToString(
                [System.Security.Cryptography.SHA256]::Create().ComputeHash($State.peer.RawData)).Replace('-', '').ToLower()
            subject   = $State.peer.Subject
            issuer    = $State.peer.Issuer
            not_after = $State.peer.NotAfter.ToUniversalTime().ToString('yyyy-MM-ddTHH:mm:ss+00:00', $Invariant)
        }
    }
    $entry.reply = @("$version $($State.tls.cipher)")
    Open-Streams $ssl
}

function Send-Hello([switch]$EhloOnly) {
    $code = Invoke-Smtp 'ehlo' "EHLO $HeloName"
    if ($code -eq 250) { return @($Steps[$Steps.Count - 1].reply | Select-Object -Skip 1) }
    if ($code -ge 500 -and -not $EhloOnly -and (Invoke-Smtp 'helo' "HELO $HeloName") -eq 250) { return @() }
    throw 'stop'
}

function Assert-Code([int]$Code, [int[]]$Expected) {
    if ($Expected -notcontains $Code) { throw 'stop' }
}

$token = $null
$messageSent = $false
try {
    $entry = Add-Step 'connect' "connect ${SmtpHost}:$Port"
    $entry.host = $SmtpHost
    $entry.port = $Port
    $State.client = [System.Net.Sockets.TcpClient]::new()
    $State.client.ReceiveTimeout = $TimeoutSeconds * 1000
    $State.client.SendTimeout = $TimeoutSeconds * 1000
    if (-not $State.client.ConnectAsync($SmtpHost, $Port).Wait($TimeoutSeconds * 1000)) {
        throw [System.TimeoutException]::new("no TCP connection within $TimeoutSeconds s")
    }
    $entry.peer = [string]$State.client.Client.RemoteEndPoint
    $entry.elapsed_ms = $script:Watch.ElapsedMilliseconds
    Open-Streams $State.client.GetStream()
    if ($Tls -eq 'tls') { Start-Tls }
    Assert-Code (Invoke-Smtp 'banner' $null) 220
    $keywords = Send-Hello
    if ($keywords -contains 'STARTTLS') {
        Assert-Code (Invoke-Smtp 'starttls' 'STARTTLS') 220
        Start-Tls
        $keywords = Send-Hello -EhloOnly
    }
    elseif ($Tls -eq 'starttls') { throw 'stop' }   # judged tls_not_offered from the EHLO reply
    if ($Credential) {
        $user = $Credential.UserName
        $password = $Credential.GetNetworkCredential().Password
        $b64 = { param($t) [System.Convert]::ToBase64String([System.Text.Encoding]::UTF8.GetBytes($t)) }
        $plain = & $b64 "`0$user`0$password"
        $Secrets = @($password, $plain, (& $b64 $password))
        $mechanisms = @($keywords | Where-Object { $_ -match '^AUTH[ =]' } | ForEach-Object { ($_ -replace '^AUTH[ =]', '').ToUpper() -split ' ' })
        if ($mechanisms -contains 'PLAIN') {
            Assert-Code (Invoke-Smtp 'auth' "AUTH PLAIN $plain" "AUTH PLAIN $Mask") 235
        }
        elseif ($mechanisms -contains 'LOGIN') {
            Assert-Code (Invoke-Smtp 'auth' 'AUTH LOGIN') 334
            Assert-Code (Invoke-Smtp 'auth_username' (& $b64 $user) $Mask) 334
            Assert-Code (Invoke-Smtp 'auth_password' (& $b64 $password) $Mask) 235
        }
        else { throw 'stop' }                       # judged auth_failed from the EHLO reply
    }
    Assert-Code (Invoke-Smtp 'mail' "MAIL FROM:<$Sender>") 250
    Assert-Code (Invoke-Smtp 'rcpt' "RCPT TO:<$Recipient>") 250, 251
    if ($SendTestMessage -and $PSCmdlet.ShouldProcess($Recipient, 'Send the PRE-01 test message')) {
        $token = [guid]::NewGuid().ToString('N').Substring(0, 16)
        $subject = "PreventCare PRE-01 test $token"
        Assert-Code (Invoke-Smtp 'data' 'DATA') 354
        $body = @(
            "From: <$Sender>", "To: <$Recipient>", "Subject: $subject",
            "Date: $([DateTime]::UtcNow.ToString('r', $Invariant))", "X-PreventCare-Token: $token", '',
            'PreventCare prerequisite PRE-01: the relay delivers mail from this server to the surveillance mailbox.',
            "Token: $token", '.'
        ) -join "`r`n"
        Assert-Code (Invoke-Smtp 'message' $body "(test message) Subject: $subject") 250
        $messageSent = $true
    }
    else { [void](Invoke-Smtp 'rset' 'RSET') }
    throw 'stop'                                    # every clean end says QUIT, below
}
catch {
    $ex = $_.Exception
    if ($ex.Message -ne 'stop') {
        # PowerShell wraps .NET method exceptions; the SocketException may sit deeper still
        # (AggregateException from ConnectAsync, IOException from a timed-out read).
        while ($ex -is [System.Management.Automation.MethodInvocationException] -and $ex.InnerException) {
            $ex = $ex.InnerException
        }
        $inner = $ex
        while ($inner -and -not ($inner -is [System.Net.Sockets.SocketException])) { $inner = $inner.InnerException }
        $type = if ($inner) { 'SocketException' }
        elseif ($ex -is [System.IO.EndOfStreamException]) { 'ConnectionClosed' }
        elseif ($ex -is [System.FormatException]) { 'BadReply' }
        else { $ex.GetType().Name }
        $code = $null; $name = $null; $shown = $ex
        if ($inner) { $code = $inner.ErrorCode; $name = [string]$inner.SocketErrorCode; $shown = $inner }
        # A TLS failure (AuthenticationException) carries Schannel's code in an inner Win32Exception.
        $native = $null
        $win32 = $ex
        while ($win32 -and -not ($win32 -is [System.ComponentModel.Win32Exception])) { $win32 = $win32.InnerException }
        if ($win32) { $native = ('0x{0:X8}' -f $win32.NativeErrorCode) }
        $last = $Steps[$Steps.Count - 1]
        $last.error = [ordered]@{
            type    = $type
            code    = $code
            name    = $name
            reason  = $State.tlsReason
            hresult = ('0x{0:X8}' -f $shown.HResult)
            native  = $native
            message = Hide $shown.Message
        }
        $last.elapsed_ms = $script:Watch.ElapsedMilliseconds
    }
    elseif ($State.writer) {
        try { [void](Invoke-Smtp 'quit' 'QUIT') }
        catch { $Steps[$Steps.Count - 1].error = @{ type = 'ConnectionClosed' } }  # ignored by the judgement
    }
}
finally {
    if ($State.client) { $State.client.Dispose() }
}

$result = @{ transcript = $Steps; tls = $State.tls; token = $token; message_sent = $messageSent }
if ($Ansible) {
    $Ansible.Result = $result
    $Ansible.Changed = $messageSent
}
else { $result | ConvertTo-Json -Depth 6 }
