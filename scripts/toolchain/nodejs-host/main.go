// Command pulumi-language-nodejs is a minimal Pulumi language host for Node.js and TypeScript
// programs, for the end-to-end tests of concurrent-infra (a stand-in, like ../python-host).
//
// Pulumi's own host (sdk/nodejs/cmd/pulumi-language-nodejs in github.com/pulumi/pulumi) is its own
// Go module that the module proxy reachable here does not serve. This one implements what
// `pulumi package add`, `pulumi install`, `pulumi preview/up/destroy` use for a TypeScript program,
// the way Pulumi's host does it (main.go there; functions named below):
//
//   - Run: `node [nodeargs] @pulumi/pulumi/cmd/run --monitor ... PROGRAM` (constructArguments), the
//     SDK's own entry point, which loads ts-node when the `typescript` option is on (the default)
//     and type-checks the program. Unlike Pulumi's host it hands the engine's monitor address to
//     the SDK directly: no monitor proxy and no `--sync` pipes (only synchronous invokes use them,
//     and the SDK runs without them).
//   - InstallDependencies: `npm install` in the program directory (npm only).
//   - GetRequiredPackages / GetRequiredPlugins: the packages in node_modules whose package.json has
//     `"pulumi": {"resource": true, ...}` (getPackagesFromDir).
//   - GeneratePackage: pkg/v3's Node.js code generator; Link: the SDK's npm Link (a `file:`
//     dependency in package.json), as Pulumi's host does.
//
// Every other LanguageRuntime method answers codes.Unimplemented ("method X not implemented").
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
	"sort"
	"strconv"
	"strings"
	"sync"

	"github.com/blang/semver"
	"github.com/pulumi/pulumi/pkg/v3/codegen/cgstrings"
	codegen "github.com/pulumi/pulumi/pkg/v3/codegen/nodejs"
	"github.com/pulumi/pulumi/pkg/v3/codegen/schema"
	"github.com/pulumi/pulumi/sdk/v3/go/common/resource/config"
	"github.com/pulumi/pulumi/sdk/v3/go/common/resource/plugin"
	"github.com/pulumi/pulumi/sdk/v3/go/common/util/rpcutil"
	"github.com/pulumi/pulumi/sdk/v3/nodejs/npm"
	pulumirpc "github.com/pulumi/pulumi/sdk/v3/proto/go"
	"google.golang.org/grpc"
	"google.golang.org/protobuf/types/known/emptypb"
)

// version is stamped at build time (-X main.version=...).
var version = "3.0.0-dev"

const (
	// runModule is the SDK's entry point that runs a program (Pulumi's host: defaultRunPath).
	runModule = "@pulumi/pulumi/cmd/run"
	// userActionableExitCode: the program has already reported its error itself.
	userActionableExitCode = 32
)

type host struct {
	pulumirpc.UnimplementedLanguageRuntimeServer

	mu            sync.Mutex
	engineAddress string
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

func (h *host) About(ctx context.Context, _ *pulumirpc.AboutRequest) (*pulumirpc.AboutResponse, error) {
	node, err := exec.LookPath("node")
	if err != nil {
		return nil, err
	}
	out, err := exec.CommandContext(ctx, node, "--version").Output()
	if err != nil {
		return nil, fmt.Errorf("%s --version: %w", node, err)
	}
	return &pulumirpc.AboutResponse{Executable: node, Version: strings.TrimSpace(string(out))}, nil
}

// options are the project's runtime options this host understands (Pulumi's host: parseOptions).
type options struct {
	typescript bool   // run through ts-node (default true)
	tsconfig   string // tsconfig path, relative to the program directory
	nodeargs   []string
}

func parseOptions(info *pulumirpc.ProgramInfo) (options, error) {
	opts := options{typescript: true}
	for name, value := range info.GetOptions().AsMap() {
		var ok bool
		switch name {
		case "typescript":
			opts.typescript, ok = value.(bool)
		case "tsconfig":
			opts.tsconfig, ok = value.(string)
		case "nodeargs":
			var args string
			args, ok = value.(string)
			opts.nodeargs = strings.Fields(args)
		case "packagemanager":
			ok = value == "npm" || value == "auto"
			if !ok {
				return opts, fmt.Errorf("runtime option packagemanager: %v is not supported by this host; use npm", value)
			}
		default:
			return opts, fmt.Errorf("runtime option %q is not supported by this host "+
				"(supported: typescript, tsconfig, nodeargs, packagemanager: npm)", name)
		}
		if !ok {
			return opts, fmt.Errorf("runtime option %s: %v has the wrong type", name, value)
		}
	}
	return opts, nil
}

// InstallDependencies runs `npm install` in the program (or plugin) directory.
func (h *host) InstallDependencies(req *pulumirpc.InstallDependenciesRequest, server grpc.ServerStreamingServer[pulumirpc.InstallDependenciesResponse]) error {
	closer, stdout, stderr, err := rpcutil.MakeInstallDependenciesStreams(server, req.GetIsTerminal())
	if err != nil {
		return err
	}
	defer closer.Close()
	if _, err := parseOptions(req.GetInfo()); err != nil {
		return err
	}
	fmt.Fprintln(stdout, "Installing dependencies (npm install)...")
	cmd := exec.CommandContext(server.Context(), "npm", "install", "--loglevel=error")
	cmd.Dir = req.GetInfo().GetProgramDirectory()
	cmd.Stdout, cmd.Stderr = stdout, stderr
	if err := cmd.Run(); err != nil {
		return fmt.Errorf("npm install in %s: %w", cmd.Dir, err)
	}
	fmt.Fprintln(stdout, "Finished installing dependencies")
	return closer.Close()
}

func (h *host) GetRequiredPackages(_ context.Context, req *pulumirpc.GetRequiredPackagesRequest) (*pulumirpc.GetRequiredPackagesResponse, error) {
	packages, err := requiredPackages(req.GetInfo().GetProgramDirectory())
	if err != nil {
		return nil, err
	}
	return &pulumirpc.GetRequiredPackagesResponse{Packages: packages}, nil
}

func (h *host) GetRequiredPlugins(_ context.Context, req *pulumirpc.GetRequiredPluginsRequest) (*pulumirpc.GetRequiredPluginsResponse, error) {
	packages, err := requiredPackages(req.GetInfo().GetProgramDirectory())
	if err != nil {
		return nil, err
	}
	plugins := make([]*pulumirpc.PluginDependency, 0, len(packages))
	for _, p := range packages {
		plugins = append(plugins, &pulumirpc.PluginDependency{Name: p.GetName(), Kind: p.GetKind(), Version: p.GetVersion(), Server: p.GetServer()})
	}
	return &pulumirpc.GetRequiredPluginsResponse{Plugins: plugins}, nil
}

// requiredPackages lists the resource plugins of the packages installed in dir/node_modules, nested
// node_modules and `file:` links included (Pulumi's host: getPackagesFromDir, getPackageInfo).
func requiredPackages(dir string) ([]*pulumirpc.PackageDependency, error) {
	found := map[string]*pulumirpc.PackageDependency{}
	seen := map[string]bool{}
	var walk func(nodeModules string) error
	walk = func(nodeModules string) error {
		entries, err := os.ReadDir(nodeModules)
		if errors.Is(err, os.ErrNotExist) {
			return nil
		} else if err != nil {
			return err
		}
		for _, entry := range entries {
			path := filepath.Join(nodeModules, entry.Name())
			if strings.HasPrefix(entry.Name(), ".") { // .bin, .package-lock.json
				continue
			}
			if strings.HasPrefix(entry.Name(), "@") { // a scope: its entries are packages
				if err := walk(path); err != nil {
					return err
				}
				continue
			}
			real, err := filepath.EvalSymlinks(path)
			if err != nil || seen[real] {
				continue
			}
			if info, err := os.Stat(real); err != nil || !info.IsDir() {
				continue
			}
			seen[real] = true
			dep, err := packageDependency(filepath.Join(real, "package.json"))
			if err != nil {
				return err
			}
			if dep != nil {
				found[dep.GetName()+"@"+dep.GetVersion()] = dep
			}
			if err := walk(filepath.Join(real, "node_modules")); err != nil {
				return err
			}
		}
		return nil
	}
	if err := walk(filepath.Join(dir, "node_modules")); err != nil {
		return nil, fmt.Errorf("reading the installed packages of %s: %w", dir, err)
	}
	keys := make([]string, 0, len(found))
	for key := range found {
		keys = append(keys, key)
	}
	sort.Strings(keys)
	packages := make([]*pulumirpc.PackageDependency, 0, len(keys))
	for _, key := range keys {
		packages = append(packages, found[key])
	}
	return packages, nil
}

// packageDependency reads one package.json: its resource plugin, or nil when it has none.
func packageDependency(packageJSON string) (*pulumirpc.PackageDependency, error) {
	data, err := os.ReadFile(packageJSON)
	if errors.Is(err, os.ErrNotExist) {
		return nil, nil
	} else if err != nil {
		return nil, err
	}
	var info struct {
		Name    string                  `json:"name"`
		Version string                  `json:"version"`
		Pulumi  plugin.PulumiPluginJSON `json:"pulumi"`
	}
	if err := json.Unmarshal(data, &info); err != nil {
		return nil, fmt.Errorf("%s: %w", packageJSON, err)
	}
	if !info.Pulumi.Resource {
		return nil, nil
	}
	name, pluginVersion := info.Pulumi.Name, info.Pulumi.Version
	if name == "" {
		if !strings.HasPrefix(info.Name, "@pulumi/") {
			return nil, fmt.Errorf("%s: a third-party package needs pulumi.name", packageJSON)
		}
		name = strings.TrimPrefix(info.Name, "@pulumi/")
	}
	if pluginVersion == "" {
		pluginVersion = info.Version
	}
	if pluginVersion != "" && !strings.HasPrefix(pluginVersion, "v") {
		pluginVersion = "v" + pluginVersion
	}
	dep := &pulumirpc.PackageDependency{Name: name, Kind: "resource", Version: pluginVersion, Server: info.Pulumi.Server}
	if p := info.Pulumi.Parameterization; p != nil {
		dep.Parameterization = &pulumirpc.PackageParameterization{Name: p.Name, Version: p.Version, Value: p.Value}
	}
	return dep, nil
}

// Run runs the program with node through the SDK's run entry point (Pulumi's host: Run,
// execRuntime, constructArguments, constructConfig).
func (h *host) Run(ctx context.Context, req *pulumirpc.RunRequest) (*pulumirpc.RunResponse, error) {
	info := req.GetInfo()
	opts, err := parseOptions(info)
	if err != nil {
		return &pulumirpc.RunResponse{Error: err.Error()}, nil
	}
	runPath, err := locateModule(ctx, runModule, info.GetProgramDirectory())
	if err != nil {
		return &pulumirpc.RunResponse{Error: err.Error()}, nil
	}
	config, err := configJSON(req.GetConfig())
	if err != nil {
		return nil, err
	}
	secretKeys, err := json.Marshal(append([]string{}, req.GetConfigSecretKeys()...))
	if err != nil {
		return nil, err
	}
	args := append([]string{}, opts.nodeargs...)
	args = append(args, runPath,
		"--monitor", req.GetMonitorAddress(),
		"--engine", h.engine(),
		"--organization", req.GetOrganization(),
		"--project", req.GetProject(),
		"--root-directory", info.GetRootDirectory(),
		"--stack", req.GetStack(),
		"--pwd", info.GetProgramDirectory(),
		"--parallel", strconv.Itoa(int(req.GetParallel())),
	)
	if req.GetDryRun() {
		args = append(args, "--dry-run")
	}
	args = append(args, info.GetEntryPoint())
	args = append(args, req.GetArgs()...)

	cmd := exec.CommandContext(ctx, "node", args...)
	cmd.Dir = info.GetProgramDirectory()
	cmd.Env = append(os.Environ(), "PULUMI_CONFIG="+config, "PULUMI_CONFIG_SECRET_KEYS="+string(secretKeys))
	if opts.typescript {
		cmd.Env = append(cmd.Env, "PULUMI_NODEJS_TYPESCRIPT=true")
	}
	if opts.tsconfig != "" {
		cmd.Env = append(cmd.Env, "PULUMI_NODEJS_TSCONFIG_PATH="+opts.tsconfig)
	}
	// Through pipes, not the host's own file descriptors: node may switch its stdio to
	// non-blocking mode (Pulumi's host: runWithOutput).
	cmd.Stdout, cmd.Stderr = struct{ io.Writer }{os.Stdout}, struct{ io.Writer }{os.Stderr}
	err = cmd.Run()
	var exitErr *exec.ExitError
	switch {
	case err == nil:
		return &pulumirpc.RunResponse{}, nil
	case errors.As(err, &exitErr) && exitErr.ExitCode() == userActionableExitCode:
		return &pulumirpc.RunResponse{Bail: true}, nil
	case errors.As(err, &exitErr):
		// As Pulumi's host answers: the program's own message is already in its output.
		return &pulumirpc.RunResponse{Error: fmt.Sprintf("Program exited with non-zero exit code: %d", exitErr.ExitCode())}, nil
	default:
		return nil, fmt.Errorf("running node: %w", err)
	}
}

// configJSON is the config the SDK reads from PULUMI_CONFIG, keys in the `<namespace>:config:<name>`
// form older SDKs expect and current ones still accept (Pulumi's host: constructConfig).
func configJSON(cfg map[string]string) (string, error) {
	transformed := make(map[string]string, len(cfg))
	for k, v := range cfg {
		key, err := config.ParseKey(k)
		if err != nil {
			return "", err
		}
		transformed[key.Namespace()+":config:"+key.Name()] = v
	}
	data, err := json.Marshal(transformed)
	return string(data), err
}

// locateModule resolves a module from the program directory with node's own resolution.
func locateModule(ctx context.Context, module, dir string) (string, error) {
	cmd := exec.CommandContext(ctx, "node", "-e", fmt.Sprintf("console.log(require.resolve(%q))", module))
	cmd.Dir = dir
	out, err := cmd.Output()
	if err != nil {
		return "", fmt.Errorf("cannot find %s from %s: has `npm install` (or `pulumi install`) run there? (%w)", module, dir, err)
	}
	return strings.TrimSpace(string(out)), nil
}

// GeneratePackage writes the Node.js SDK of a schema (`pulumi package add`, `pulumi install`).
func (h *host) GeneratePackage(_ context.Context, req *pulumirpc.GeneratePackageRequest) (*pulumirpc.GeneratePackageResponse, error) {
	loader, err := schema.NewLoaderClient(req.GetLoaderTarget())
	if err != nil {
		return nil, err
	}
	defer loader.Close()
	var spec schema.PackageSpec
	if err := json.Unmarshal([]byte(req.GetSchema()), &spec); err != nil {
		return nil, err
	}
	pkg, diags, err := schema.BindSpec(spec, schema.NewCachedLoader(loader), schema.ValidationOptions{AllowDanglingReferences: true})
	if err != nil {
		return nil, err
	}
	response := &pulumirpc.GeneratePackageResponse{Diagnostics: plugin.HclDiagnosticsToRPCDiagnostics(diags)}
	if diags.HasErrors() {
		return response, nil
	}
	files, err := codegen.GeneratePackage("pulumi-language-nodejs", pkg, req.GetExtraFiles(),
		req.GetLocalDependencies(), req.GetLocal(), schema.NewCachedLoader(loader))
	if err != nil {
		return nil, err
	}
	for name, data := range files {
		path := filepath.Join(req.GetDirectory(), name)
		if err := os.MkdirAll(filepath.Dir(path), 0o755); err != nil {
			return nil, err
		}
		if err := os.WriteFile(path, data, 0o644); err != nil {
			return nil, err
		}
	}
	return response, nil
}

// Link adds generated SDKs to the program's package.json as `file:` dependencies (the SDK's npm
// Link, as Pulumi's host calls it) and returns the import lines to show.
func (h *host) Link(ctx context.Context, req *pulumirpc.LinkRequest) (*pulumirpc.LinkResponse, error) {
	if _, err := parseOptions(req.GetInfo()); err != nil {
		return nil, err
	}
	loader, err := schema.NewLoaderClient(req.GetLoaderTarget())
	if err != nil {
		return nil, err
	}
	defer loader.Close()
	cached := schema.NewCachedLoader(loader)
	dir := req.GetInfo().GetProgramDirectory()
	pm, err := npm.ResolvePackageManager(npm.NpmPackageManager, dir)
	if err != nil {
		return nil, err
	}
	instructions := "You can import the SDK in your TypeScript code with:\n\n"
	for _, dep := range req.GetPackages() {
		descriptor := &schema.PackageDescriptor{Name: dep.GetPackage().GetName(), DownloadURL: dep.GetPackage().GetServer()}
		if v, err := semver.ParseTolerant(dep.GetPackage().GetVersion()); err == nil {
			descriptor.Version = &v
		}
		if p := dep.GetPackage().GetParameterization(); p != nil {
			return nil, fmt.Errorf("package %s: parameterized packages are not supported by this host", p.GetName())
		}
		ref, err := schema.LoadPackageReferenceV2(ctx, cached, descriptor)
		if err != nil {
			return nil, err
		}
		pkg, err := ref.Definition()
		if err != nil {
			return nil, err
		}
		if err := pkg.ImportLanguages(map[string]schema.Language{"nodejs": codegen.Importer}); err != nil {
			return nil, err
		}
		name := nodePackageName(pkg)
		if err := pm.Link(ctx, dir, name, dep.GetPath()); err != nil {
			return nil, err
		}
		instructions += fmt.Sprintf("  import * as %s from \"%s\";\n", cgstrings.Camel(ref.Name()), name)
	}
	return &pulumirpc.LinkResponse{ImportInstructions: instructions}, nil
}

// nodePackageName is the npm name of a package's SDK (Pulumi's host: getNodeJSPkgName).
func nodePackageName(pkg *schema.Package) string {
	if info, ok := pkg.Language["nodejs"].(codegen.NodePackageInfo); ok && info.PackageName != "" {
		return info.PackageName
	}
	if pkg.Namespace != "" {
		return "@" + pkg.Namespace + "/" + pkg.Name
	}
	return "@pulumi/" + pkg.Name
}

// parseArgs returns the engine address: the one argument that is not a flag (the engine passes
// `-tracing=...` and similar flags, which this host ignores).
func parseArgs(args []string) string {
	for _, arg := range args {
		if !strings.HasPrefix(arg, "-") {
			return arg
		}
	}
	return ""
}

func main() {
	h := &host{engineAddress: parseArgs(os.Args[1:])}
	handle, err := rpcutil.ServeWithOptions(rpcutil.ServeOptions{
		Init: func(srv *grpc.Server) error {
			pulumirpc.RegisterLanguageRuntimeServer(srv, h)
			return nil
		},
	})
	if err != nil {
		fmt.Fprintf(os.Stderr, "pulumi-language-nodejs: %v\n", err)
		os.Exit(1)
	}
	fmt.Printf("%d\n", handle.Port)
	if err := <-handle.Done; err != nil {
		fmt.Fprintf(os.Stderr, "pulumi-language-nodejs: %v\n", err)
		os.Exit(1)
	}
}
