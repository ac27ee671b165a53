; Inno Setup 6 script: a per-machine installer for the frozen app in dist\docqa\ (built on
; Windows by installer\windows\build.ps1 from the same installer\docqa.spec as Linux).
;
;   iscc /DAppVersion=0.1.0 installer\windows\docqa.iss   ->  dist\docqa-0.1.0-setup.exe
;
; Silent install for IT (deployment tools, GPO, Intune):
;   docqa-0.1.0-setup.exe /VERYSILENT /SUPPRESSMSGBOXES /NORESTART [/DIR="D:\Apps\docqa"] [/LOG="C:\Temp\docqa.log"]
; Silent uninstall (keeps every user's libraries and settings):
;   "C:\Program Files\docqa\unins000.exe" /VERYSILENT /SUPPRESSMSGBOXES /NORESTART
; ... and also delete the data of the user running the uninstaller:
;   "C:\Program Files\docqa\unins000.exe" /VERYSILENT /SUPPRESSMSGBOXES /NORESTART /PURGE
;
; Nothing here downloads: the models and the llama.cpp builds (CPU, and CUDA/Vulkan in
; _internal\llama_libs) are inside dist\docqa. User data lives in %LOCALAPPDATA%\docqa
; (platformdirs' user_data_dir), never under Program Files.

#ifndef AppVersion
  #define AppVersion "0.1.0"
#endif
#define AppName "docqa"
#define DistDir "..\..\dist\docqa"

[Setup]
AppId={{6C1F3A52-8E0B-4B7C-9D0E-2F5A1C7B9D31}
AppName={#AppName}
AppVersion={#AppVersion}
AppPublisher=docqa
AppVerName={#AppName} {#AppVersion}
DefaultDirName={autopf}\{#AppName}
DefaultGroupName={#AppName}
DisableProgramGroupPage=yes
; Per-machine: one install for every user of the laptop, under Program Files.
PrivilegesRequired=admin
PrivilegesRequiredOverridesAllowed=
ArchitecturesAllowed=x64compatible
ArchitecturesInstallIn64BitMode=x64compatible
OutputDir=..\..\dist
OutputBaseFilename=docqa-{#AppVersion}-setup
SetupIconFile=..\..\assets\docqa.ico
UninstallDisplayIcon={app}\docqa-desktop.exe
Compression=lzma2/max
SolidCompression=yes
; The models are large; a 4 GB GGUF still fits with disk spanning off.
DiskSpanning=no
WizardStyle=modern
CloseApplications=yes
RestartApplications=no
ChangesEnvironment=yes

[Languages]
Name: "english"; MessagesFile: "compiler:Default.isl"

[Tasks]
Name: "desktopicon"; Description: "{cm:CreateDesktopIcon}"; GroupDescription: "{cm:AdditionalIcons}"; Flags: unchecked
Name: "addtopath"; Description: "Put the docqa command on the PATH (for scripts)"; GroupDescription: "Command line:"; Flags: unchecked

[Files]
Source: "{#DistDir}\*"; DestDir: "{app}"; Flags: ignoreversion recursesubdirs createallsubdirs

[Icons]
Name: "{autoprograms}\docqa"; Filename: "{app}\docqa-desktop.exe"
Name: "{autodesktop}\docqa"; Filename: "{app}\docqa-desktop.exe"; Tasks: desktopicon

[Registry]
Root: HKLM; Subkey: "SYSTEM\CurrentControlSet\Control\Session Manager\Environment"; ValueType: expandsz; \
  ValueName: "Path"; ValueData: "{olddata};{app}"; Tasks: addtopath; Check: NeedsAddPath(ExpandConstant('{app}'))

[Run]
Filename: "{app}\docqa-desktop.exe"; Description: "{cm:LaunchProgram,docqa}"; Flags: nowait postinstall skipifsilent

[Code]
var
  PurgeUserData: Boolean;

function NeedsAddPath(Dir: string): Boolean;
var
  Paths: string;
begin
  if not RegQueryStringValue(HKLM, 'SYSTEM\CurrentControlSet\Control\Session Manager\Environment', 'Path', Paths) then
  begin
    Result := True;
    exit;
  end;
  Result := Pos(';' + Uppercase(Dir) + ';', ';' + Uppercase(Paths) + ';') = 0;
end;

function CmdLineHasSwitch(Name: string): Boolean;
var
  I: Integer;
begin
  Result := False;
  for I := 1 to ParamCount do
    if CompareText(ParamStr(I), Name) = 0 then
      Result := True;
end;

function InitializeUninstall(): Boolean;
begin
  // Keep user data unless asked: /PURGE on the command line, or Yes in the dialog. A
  // silent uninstall never asks (the answer is "keep").
  PurgeUserData := CmdLineHasSwitch('/PURGE');
  if (not PurgeUserData) and (not UninstallSilent()) then
    PurgeUserData := MsgBox('Also delete your docqa libraries, chats and settings?' + #13#10 + #13#10 +
      'Your original documents are never touched. Choose No to keep the libraries for a later install.',
      mbConfirmation, MB_YESNO or MB_DEFBUTTON2) = IDYES;
  Result := True;
end;

procedure CurUninstallStepChanged(CurUninstallStep: TUninstallStep);
begin
  if (CurUninstallStep = usPostUninstall) and PurgeUserData then
    // The data of the user running the uninstaller (another user's profile is theirs).
    DelTree(ExpandConstant('{localappdata}\docqa'), True, True, True);
end;
