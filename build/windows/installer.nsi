; Windows installer of Gemini Balance Desktop (NSIS 3; built by build/package.sh with makensis).
;
; Per-user: installs into %LocalAppData%\Programs\Gemini Balance Desktop without administrator
; rights, registers an uninstaller under HKCU, adds a Start-menu entry and, if chosen, starts the
; app at login (the same Run value the app's "start at login" setting writes). The uninstaller
; keeps the user's data (%AppData%\gemini-balance-desktop) unless asked to delete it.
; If the Microsoft Edge WebView2 Runtime (which draws the window) is missing, the installer says
; so and offers to open Microsoft's download page.
;
; Silent: setup.exe /S [/AUTOSTART] [/D=DIR]     uninstall.exe /S [/DELETEDATA]
;
; makensis -D: VERSION VERSION4 PRODUCT COMPANY COPYRIGHT SRCDIR ICON OUTFILE

Unicode true
; A 64-bit installer for a 64-bit app (it also runs under a wine64-only prefix).
Target amd64-unicode
SetCompressor /SOLID lzma
ManifestDPIAware true
RequestExecutionLevel user

!define EXE "gemini-balance-desktop.exe"
; The console twin: shells run it for `gemini-balance-desktop …` and wait for its output.
!define COM "gemini-balance-desktop.com"
!define APPKEY "GeminiBalanceDesktop"
!define DATADIR "gemini-balance-desktop"
!define UNINSTKEY "Software\Microsoft\Windows\CurrentVersion\Uninstall\${APPKEY}"
!define RUNKEY "Software\Microsoft\Windows\CurrentVersion\Run"
!define WEBVIEW2_GUID "{F3017226-FE2A-4295-8BDF-00C3A9A7E4C5}"
!define WEBVIEW2_URL "https://developer.microsoft.com/microsoft-edge/webview2/"

Name "${PRODUCT}"
OutFile "${OUTFILE}"
InstallDir "$LOCALAPPDATA\Programs\${PRODUCT}"
InstallDirRegKey HKCU "Software\${APPKEY}" "InstallDir"
BrandingText "${PRODUCT} ${VERSION}"

VIProductVersion "${VERSION4}"
VIFileVersion "${VERSION4}"
VIAddVersionKey /LANG=1033 "ProductName" "${PRODUCT}"
VIAddVersionKey /LANG=1033 "ProductVersion" "${VERSION}"
VIAddVersionKey /LANG=1033 "FileVersion" "${VERSION}"
VIAddVersionKey /LANG=1033 "FileDescription" "${PRODUCT} Setup"
VIAddVersionKey /LANG=1033 "CompanyName" "${COMPANY}"
VIAddVersionKey /LANG=1033 "LegalCopyright" "${COPYRIGHT}"

!include "MUI2.nsh"
!include "LogicLib.nsh"
!include "FileFunc.nsh"

!define MUI_ICON "${ICON}"
!define MUI_UNICON "${ICON}"
!define MUI_ABORTWARNING
!define MUI_COMPONENTSPAGE_SMALLDESC
!define MUI_FINISHPAGE_RUN "$INSTDIR\${EXE}"
!define MUI_FINISHPAGE_RUN_TEXT "Start ${PRODUCT} now"

!insertmacro MUI_PAGE_WELCOME
!insertmacro MUI_PAGE_COMPONENTS
!insertmacro MUI_PAGE_DIRECTORY
!insertmacro MUI_PAGE_INSTFILES
!insertmacro MUI_PAGE_FINISH
!insertmacro MUI_UNPAGE_CONFIRM
!insertmacro MUI_UNPAGE_INSTFILES
!insertmacro MUI_LANGUAGE "English"

; DeleteRunningExe FILE: deletes FILE, asking the user to quit the app while it is in use
; (a running program's file cannot be replaced or removed on Windows).
!macro DeleteRunningExe FILE
  ${Do}
    ClearErrors
    Delete "${FILE}"
    ${IfNot} ${Errors}
      ${Break}
    ${EndIf}
    MessageBox MB_RETRYCANCEL|MB_ICONEXCLAMATION "${PRODUCT} is running. Quit it (tray icon → Quit), then choose Retry." /SD IDCANCEL IDRETRY +2
    Abort "${PRODUCT} is running: quit it and run this again."
  ${Loop}
!macroend

Section "${PRODUCT}" SecApp
  SectionIn RO
  SetOutPath "$INSTDIR"
  ${If} ${FileExists} "$INSTDIR\${EXE}"
    !insertmacro DeleteRunningExe "$INSTDIR\${EXE}"
  ${EndIf}
  File "${SRCDIR}\${EXE}"
  File "${SRCDIR}\${COM}"
  File "${SRCDIR}\README.txt"
  File "${SRCDIR}\CHANGELOG.md"
  WriteUninstaller "$INSTDIR\uninstall.exe"

  WriteRegStr HKCU "Software\${APPKEY}" "InstallDir" "$INSTDIR"
  WriteRegStr HKCU "${UNINSTKEY}" "DisplayName" "${PRODUCT}"
  WriteRegStr HKCU "${UNINSTKEY}" "DisplayVersion" "${VERSION}"
  WriteRegStr HKCU "${UNINSTKEY}" "Publisher" "${COMPANY}"
  WriteRegStr HKCU "${UNINSTKEY}" "DisplayIcon" "$INSTDIR\${EXE}"
  WriteRegStr HKCU "${UNINSTKEY}" "InstallLocation" "$INSTDIR"
  WriteRegStr HKCU "${UNINSTKEY}" "UninstallString" '"$INSTDIR\uninstall.exe"'
  WriteRegStr HKCU "${UNINSTKEY}" "QuietUninstallString" '"$INSTDIR\uninstall.exe" /S'
  WriteRegDWORD HKCU "${UNINSTKEY}" "NoModify" 1
  WriteRegDWORD HKCU "${UNINSTKEY}" "NoRepair" 1
  ${GetSize} "$INSTDIR" "/S=0K" $0 $1 $2
  WriteRegDWORD HKCU "${UNINSTKEY}" "EstimatedSize" $0
SectionEnd

Section "Start menu entry" SecStartMenu
  CreateShortCut "$SMPROGRAMS\${PRODUCT}.lnk" "$INSTDIR\${EXE}" "" "$INSTDIR\${EXE}" 0
SectionEnd

Section /o "Desktop shortcut" SecDesktop
  CreateShortCut "$DESKTOP\${PRODUCT}.lnk" "$INSTDIR\${EXE}" "" "$INSTDIR\${EXE}" 0
SectionEnd

Section /o "Start at login" SecAutostart
  WriteRegStr HKCU "${RUNKEY}" "${APPKEY}" '"$INSTDIR\${EXE}" --hidden'
SectionEnd

Section "-WebView2 check"
  Call CheckWebView2
SectionEnd

!insertmacro MUI_FUNCTION_DESCRIPTION_BEGIN
  !insertmacro MUI_DESCRIPTION_TEXT ${SecApp} "The app: a Gemini API proxy on 127.0.0.1 with a window and a tray icon."
  !insertmacro MUI_DESCRIPTION_TEXT ${SecStartMenu} "An entry in the Start menu."
  !insertmacro MUI_DESCRIPTION_TEXT ${SecDesktop} "A shortcut on the desktop."
  !insertmacro MUI_DESCRIPTION_TEXT ${SecAutostart} "Start the app, with its window hidden, when you log in. The app's settings can change this later."
!insertmacro MUI_FUNCTION_DESCRIPTION_END

Function .onInit
  ; /AUTOSTART selects "Start at login" (for silent installs).
  ${GetParameters} $0
  ClearErrors
  ${GetOptions} $0 "/AUTOSTART" $1
  ${IfNot} ${Errors}
    SectionGetFlags ${SecAutostart} $1
    IntOp $1 $1 | ${SF_SELECTED}
    SectionSetFlags ${SecAutostart} $1
  ${EndIf}
FunctionEnd

; CheckWebView2 tells the user when the WebView2 Runtime is missing and offers Microsoft's page.
; The runtime registers its version ("pv") per machine (32- or 64-bit view) or per user.
Function CheckWebView2
  ReadRegStr $0 HKLM "SOFTWARE\WOW6432Node\Microsoft\EdgeUpdate\Clients\${WEBVIEW2_GUID}" "pv"
  ${If} $0 == ""
  ${OrIf} $0 == "0.0.0.0"
    ReadRegStr $0 HKLM "SOFTWARE\Microsoft\EdgeUpdate\Clients\${WEBVIEW2_GUID}" "pv"
  ${EndIf}
  ${If} $0 == ""
  ${OrIf} $0 == "0.0.0.0"
    ReadRegStr $0 HKCU "Software\Microsoft\EdgeUpdate\Clients\${WEBVIEW2_GUID}" "pv"
  ${EndIf}
  ${If} $0 == ""
  ${OrIf} $0 == "0.0.0.0"
    DetailPrint "The Microsoft Edge WebView2 Runtime is not installed."
    MessageBox MB_YESNO|MB_ICONINFORMATION "${PRODUCT} shows its window with the Microsoft Edge WebView2 Runtime, which is not installed on this computer (Windows 10 and 11 usually have it).$\r$\n$\r$\nWithout it the proxy still runs and its screens open in your browser.$\r$\n$\r$\nOpen Microsoft's download page for the WebView2 Runtime now?" /SD IDNO IDNO +2
    ExecShell "open" "${WEBVIEW2_URL}"
  ${Else}
    DetailPrint "WebView2 Runtime $0 found."
  ${EndIf}
FunctionEnd

Section "Uninstall"
  ${If} ${FileExists} "$INSTDIR\${EXE}"
    !insertmacro DeleteRunningExe "$INSTDIR\${EXE}"
  ${EndIf}
  Delete "$INSTDIR\${COM}"
  Delete "$INSTDIR\README.txt"
  Delete "$INSTDIR\CHANGELOG.md"
  Delete "$INSTDIR\uninstall.exe"
  RMDir "$INSTDIR"
  Delete "$SMPROGRAMS\${PRODUCT}.lnk"
  Delete "$DESKTOP\${PRODUCT}.lnk"
  DeleteRegValue HKCU "${RUNKEY}" "${APPKEY}"
  DeleteRegKey HKCU "${UNINSTKEY}"
  DeleteRegKey HKCU "Software\${APPKEY}"

  ; The user's data stays unless asked for: /DELETEDATA when silent, a question otherwise.
  ${GetParameters} $0
  ClearErrors
  ${GetOptions} $0 "/DELETEDATA" $1
  ${If} ${Errors}
    MessageBox MB_YESNO|MB_ICONQUESTION|MB_DEFBUTTON2 "Also delete your ${PRODUCT} data?$\r$\n$\r$\n$APPDATA\${DATADIR}$\r$\n(key list, settings, statistics, request log).$\r$\n$\r$\nChoose No to keep it for a later install. API keys kept in Windows Credential Manager stay there either way: delete the keys in the app before uninstalling to remove them." /SD IDNO IDYES delete
    Goto keep
  ${EndIf}
  delete:
  RMDir /r "$APPDATA\${DATADIR}"
  DetailPrint "Deleted $APPDATA\${DATADIR}"
  Goto done
  keep:
  DetailPrint "Kept your data in $APPDATA\${DATADIR}"
  done:
SectionEnd
