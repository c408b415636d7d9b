// Command pulumi-language-python is a minimal Pulumi language host for Python programs, policy
// packs and source-based provider plugins, for the end-to-end tests of concurrent-infra.
//
// Pulumi's own host (module github.com/pulumi/pulumi/sdk/python/cmd/pulumi-language-python/v3)
// is not served by the Go module proxy this project can reach. This host implements the part
// of the LanguageRuntime protocol that `pulumi preview/up/refresh/destroy`, policy packs and
// `pulumi package get-schema` / a program using the plugin package in plugin/ use, and runs
// programs with the SDK's own `pulumi-language-python-exec` script (installed next to this
// binary). Dependencies are installed by the project (scripts/setup), not by this host.
package main

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"strings"
	"sync"

	"github.com/pulumi/pulumi/sdk/v3/go/common/util/rpcutil"
	pulumirpc "github.com/pulumi/pulumi/sdk/v3/proto/go"
	"google.golang.org/grpc"
	"google.golang.org/protobuf/types/known/emptypb"
)

// version is stamped at build time (-X main.version=...).
var version = "3.0.0-dev"

// userActionableExitCode is the exec script's exit status after it has reported the error itself.
const userActionableExitCode = 32

type host struct {
	pulumirpc.UnimplementedLanguageRuntimeServer

	mu            sync.Mutex
	engineAddress string
	flags         map[string]string
}

func (h *host) engine() string {
	h.mu.Lock()
	defer h.mu.Unlock()
	return h.engineAddress
}

func (h *host) Handshake(_ context.Context, req *pulumirpc.LanguageHandshakeRequest) (*pulumirpc.LanguageHandshakeResponse, error) {
	h.mu.Lock()
	h.engineAddress = req.GetEngineAddress()
	h.mu.Unlock()
	return &pulumirpc.LanguageHandshakeResponse{}, nil
}

func (h *host) GetPluginInfo(context.Context, *emptypb.Empty) (*pulumirpc.PluginInfo, error) {
	return &pulumirpc.PluginInfo{Version: version}, nil
}

func (h *host) GetRequiredPlugins(context.Context, *pulumirpc.GetRequiredPluginsRequest) (*pulumirpc.GetRequiredPluginsResponse, error) {
	return &pulumirpc.GetRequiredPluginsResponse{}, nil
}

func (h *host) GetRequiredPackages(context.Context, *pulumirpc.GetRequiredPackagesRequest) (*pulumirpc.GetRequiredPackagesResponse, error) {
	return &pulumirpc.GetRequiredPackagesResponse{}, nil
}

func (h *host) GetProgramDependencies(context.Context, *pulumirpc.GetProgramDependenciesRequest) (*pulumirpc.GetProgramDependenciesResponse, error) {
	return &pulumirpc.GetProgramDependenciesResponse{}, nil
}

func (h *host) InstallDependencies(*pulumirpc.InstallDependenciesRequest, grpc.ServerStreamingServer[pulumirpc.InstallDependenciesResponse]) error {
	return nil // the project installs its own dependencies (scripts/setup)
}

func (h *host) About(_ context.Context, req *pulumirpc.AboutRequest) (*pulumirpc.AboutResponse, error) {
	python := h.python(req.GetInfo())
	out, err := exec.Command(python, "--version").Output()
	if err != nil {
		return nil, fmt.Errorf("%s --version: %w", python, err)
	}
	return &pulumirpc.AboutResponse{Executable: python, Version: strings.TrimPrefix(strings.TrimSpace(string(out)), "Python ")}, nil
}

// python is the interpreter of the program's virtualenv (runtime option `virtualenv`), else python3.
func (h *host) python(info *pulumirpc.ProgramInfo) string {
	virtualenv := h.flags["virtualenv"]
	if opts := info.GetOptions(); opts != nil {
		if value, ok := opts.GetFields()["virtualenv"]; ok && value.GetStringValue() != "" {
			virtualenv = value.GetStringValue()
		}
	}
	if virtualenv == "" {
		return "python3"
	}
	if !filepath.IsAbs(virtualenv) {
		virtualenv = filepath.Join(info.GetRootDirectory(), virtualenv)
	}
	return filepath.Join(virtualenv, "bin", "python")
}

func execScript() (string, error) {
	self, err := os.Executable()
	if err != nil {
		return "", err
	}
	return filepath.Join(filepath.Dir(self), "pulumi-language-python-exec"), nil
}

func withVirtualenv(env []string, python string) []string {
	if bin := filepath.Dir(python); filepath.IsAbs(python) {
		env = append(env, "VIRTUAL_ENV="+filepath.Dir(bin), "PATH="+bin+string(os.PathListSeparator)+os.Getenv("PATH"))
	}
	return env
}

func (h *host) Run(ctx context.Context, req *pulumirpc.RunRequest) (*pulumirpc.RunResponse, error) {
	script, err := execScript()
	if err != nil {
		return nil, err
	}
	config, err := json.Marshal(req.GetConfig())
	if err != nil {
		return nil, err
	}
	secretKeys, err := json.Marshal(req.GetConfigSecretKeys())
	if err != nil {
		return nil, err
	}
	info := req.GetInfo()
	program := req.GetProgram()
	if info.GetProgramDirectory() != "" {
		program = filepath.Join(info.GetProgramDirectory(), info.GetEntryPoint())
	}
	python := h.python(info)
	args := []string{"-u", script,
		"--monitor", req.GetMonitorAddress(),
		"--engine", h.engine(),
		"--project", req.GetProject(),
		"--stack", req.GetStack(),
		"--pwd", req.GetPwd(),
		"--dry_run=" + strconv.FormatBool(req.GetDryRun()),
		"--parallel", strconv.Itoa(int(req.GetParallel())),
		"--organization", req.GetOrganization(),
		"--root_directory", info.GetRootDirectory(),
		program,
	}
	cmd := exec.CommandContext(ctx, python, append(args, req.GetArgs()...)...)
	cmd.Dir = req.GetPwd()
	cmd.Env = withVirtualenv(append(os.Environ(),
		"PULUMI_CONFIG="+string(config),
		"PULUMI_CONFIG_SECRET_KEYS="+string(secretKeys),
	), python)
	cmd.Stdout, cmd.Stderr = os.Stdout, os.Stderr
	err = cmd.Run()
	var exitErr *exec.ExitError
	switch {
	case err == nil:
		return &pulumirpc.RunResponse{}, nil
	case errors.As(err, &exitErr) && exitErr.ExitCode() == userActionableExitCode:
		return &pulumirpc.RunResponse{Bail: true}, nil
	case errors.As(err, &exitErr):
		// As Pulumi's own host answers: the program's own message is already in its output.
		return &pulumirpc.RunResponse{Error: fmt.Sprintf("Program exited with non-zero exit code: %d", exitErr.ExitCode())}, nil
	default:
		return nil, fmt.Errorf("running %s: %w", python, err)
	}
}

// RunPlugin runs a Python plugin as Pulumi's own host does for a plugin folder with a
// `__main__.py`: `python -u <dir> ARGS...`. That covers policy packs (PulumiPolicy.yaml, kind
// "analyzer") and source-based provider packages (PulumiPlugin.yaml, kind "resource"), whose
// `__main__.py` serves the provider protocol and prints its port first. The engine passes its
// address and flags in ARGS. As in Pulumi's host, a plugin without a `virtualenv` option uses
// `venv` in its folder: plugins never run on the ambient Python.
func (h *host) RunPlugin(req *pulumirpc.RunPluginRequest, server grpc.ServerStreamingServer[pulumirpc.RunPluginResponse]) error {
	info := req.GetInfo()
	program := req.GetProgram()
	if info.GetProgramDirectory() != "" {
		program = info.GetProgramDirectory()
	}
	if _, err := os.Stat(filepath.Join(program, "__main__.py")); err != nil {
		return fmt.Errorf("plugin %s (kind %q): this host runs only plugin folders with a __main__.py: %w",
			program, req.GetKind(), err)
	}
	python := h.pluginPython(info)
	cmd := exec.CommandContext(server.Context(), python, append([]string{"-u", program}, req.GetArgs()...)...)
	cmd.Dir = req.GetPwd()
	cmd.Env = withVirtualenv(append(os.Environ(), req.GetEnv()...), python)
	streams := &pluginStreams{server: server}
	cmd.Stdout, cmd.Stderr = streams.writer(false), streams.writer(true)
	err := cmd.Run()
	code := 0
	var exitErr *exec.ExitError
	if errors.As(err, &exitErr) {
		code = exitErr.ExitCode()
	} else if err != nil {
		return fmt.Errorf("running plugin %s with %s: %w", program, python, err)
	}
	return streams.send(&pulumirpc.RunPluginResponse{Output: &pulumirpc.RunPluginResponse_Exitcode{Exitcode: int32(code)}})
}

// pluginPython is the interpreter for a plugin: its `virtualenv` option, else `venv` in its folder.
func (h *host) pluginPython(info *pulumirpc.ProgramInfo) string {
	if opts := info.GetOptions(); opts != nil {
		if value, ok := opts.GetFields()["virtualenv"]; ok && value.GetStringValue() != "" {
			return h.python(info)
		}
	}
	return filepath.Join(info.GetRootDirectory(), "venv", "bin", "python")
}

// pluginStreams forwards a plugin's stdout and stderr to the engine. A gRPC stream must not be
// sent on from two goroutines at once, and exec copies stdout and stderr in one goroutine each,
// so every Send goes through one lock.
type pluginStreams struct {
	mu     sync.Mutex
	server grpc.ServerStreamingServer[pulumirpc.RunPluginResponse]
}

func (s *pluginStreams) send(response *pulumirpc.RunPluginResponse) error {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.server.Send(response)
}

func (s *pluginStreams) writer(stderr bool) io.Writer {
	return &streamWriter{streams: s, stderr: stderr}
}

type streamWriter struct {
	streams *pluginStreams
	stderr  bool
}

func (w *streamWriter) Write(p []byte) (int, error) {
	data := append([]byte(nil), p...)
	response := &pulumirpc.RunPluginResponse{Output: &pulumirpc.RunPluginResponse_Stdout{Stdout: data}}
	if w.stderr {
		response = &pulumirpc.RunPluginResponse{Output: &pulumirpc.RunPluginResponse_Stderr{Stderr: data}}
	}
	if err := w.streams.send(response); err != nil {
		return 0, err
	}
	return len(p), nil
}

var _ io.Writer = (*streamWriter)(nil)

// parseArgs takes `-name=value` flags (the engine passes runtime options this way) and the
// engine address, ignoring flags it does not know.
func parseArgs(args []string) (map[string]string, string) {
	flags := map[string]string{}
	engine := ""
	for _, arg := range args {
		if strings.HasPrefix(arg, "-") {
			name, value, _ := strings.Cut(strings.TrimLeft(arg, "-"), "=")
			flags[name] = value
		} else {
			engine = arg
		}
	}
	return flags, engine
}

func main() {
	flags, engine := parseArgs(os.Args[1:])
	h := &host{engineAddress: engine, flags: flags}
	handle, err := rpcutil.ServeWithOptions(rpcutil.ServeOptions{
		Init: func(srv *grpc.Server) error {
			pulumirpc.RegisterLanguageRuntimeServer(srv, h)
			return nil
		},
	})
	if err != nil {
		fmt.Fprintf(os.Stderr, "pulumi-language-python: %v\n", err)
		os.Exit(1)
	}
	fmt.Printf("%d\n", handle.Port)
	if err := <-handle.Done; err != nil {
		fmt.Fprintf(os.Stderr, "pulumi-language-python: %v\n", err)
		os.Exit(1)
	}
}
