# Build dist\docqa-<version>-setup.exe on Windows (x64), from a clean checkout:
#   powershell -ExecutionPolicy Bypass -File installer\windows\build.ps1 [-Gguf C:\models\model.gguf] [-Cuda]
# Needs: Python 3.11, Visual Studio 2022 Build Tools (C++), CMake, Inno Setup 6 (iscc on PATH),
# and for -Cuda the CUDA Toolkit 12.x. Nothing is downloaded at install or run time.
param([string]$Gguf = "", [switch]$Cuda, [switch]$Vulkan)
$ErrorActionPreference = "Stop"
Set-Location (Join-Path $PSScriptRoot "..\..")
$version = (Select-String -Path pyproject.toml -Pattern '^version = "(.*)"').Matches[0].Groups[1].Value

if (-not (Test-Path .venv)) { py -3.11 -m venv .venv }
$py = ".venv\Scripts\python.exe"
& $py -m pip install -q --upgrade pip
& $py -m pip install -q "torch==2.13.0" --index-url https://download.pytorch.org/whl/cpu   # CPU torch: no CUDA runtime in the bundle
& $py -m pip install -q -e ".[build]"
$llama = (& $py -c "import importlib.metadata as m; print(m.version('llama_cpp_python'))").Trim()

function Build-Llama([string]$name, [string]$cmake) {
    # One wheel per backend, each unpacked into build\llama-<name>\lib.
    $out = "build\llama-$name"
    if (Test-Path "$out\lib\llama.dll") { return "$out\lib" }
    $env:CMAKE_ARGS = "-DGGML_NATIVE=OFF -DGGML_AVX=ON -DGGML_AVX2=ON -DGGML_FMA=ON -DGGML_F16C=ON -DLLAVA_BUILD=OFF $cmake"
    & $py -m pip wheel -q --no-deps --no-binary llama-cpp-python "llama-cpp-python==$llama" -w "$out\wheel"
    $whl = Get-ChildItem "$out\wheel\*.whl" | Select-Object -First 1
    & $py -c "import sys, zipfile; z = zipfile.ZipFile(sys.argv[1]); [z.extract(n, sys.argv[2]) for n in z.namelist() if n.startswith('llama_cpp/lib/')]" $whl.FullName $out
    Move-Item "$out\llama_cpp\lib" "$out\lib"
    return "$out\lib"
}

$args = @("--llama-lib", (Build-Llama "cpu" ""))
if ($Cuda)   { $args += @("--variant", "cuda=" + (Build-Llama "cuda" "-DGGML_CUDA=ON -DCMAKE_CUDA_ARCHITECTURES=61;75;86;89")) }
if ($Vulkan) { $args += @("--variant", "vulkan=" + (Build-Llama "vulkan" "-DGGML_VULKAN=ON")) }
if ($Gguf)   { $args += @("--gguf", $Gguf) }
# assets\docqa.ico from the PNG (Pillow comes with sentence-transformers), before the freeze uses it.
& $py -c "from PIL import Image; Image.open('assets/docqa.png').save('assets/docqa.ico', sizes=[(16,16),(32,32),(48,48),(256,256)])"
& $py installer\build.py @args
if ($LASTEXITCODE -ne 0) { throw "freeze failed" }

iscc "/DAppVersion=$version" installer\windows\docqa.iss
if ($LASTEXITCODE -ne 0) { throw "iscc failed" }
Write-Host "dist\docqa-$version-setup.exe"
