// Vault's AWS auth method (github.com/hashicorp/vault/builtin/credential/aws, Vault's own code,
// unchanged) served as an external plugin, so the test bed's OpenBao dev server, which no longer
// ships an AWS auth method, can run it. Built and cached by `provision.sh vault-aws-plugin`, which
// makes the module around this file; see the target there for the versions.
package main

import (
	"context"
	"fmt"
	"os"

	"github.com/hashicorp/vault/api"
	awsauth "github.com/hashicorp/vault/builtin/credential/aws"
	"github.com/hashicorp/vault/sdk/logical"
	"github.com/hashicorp/vault/sdk/plugin"
	"github.com/hashicorp/vault/sdk/rotation"
)

// noRotationJobs answers DeregisterRotationJob with "done". Vault 1.19+ calls it on every write of
// auth/aws/config/client that configures no automated root-credential rotation; OpenBao's plugin
// SystemView has no rotation manager and answers that RPC with "Unimplemented", which would refuse
// every config write. No rotation job is ever registered (RegisterRotationJob still fails, so a
// config asking for rotation is refused), so there is nothing to deregister. Everything else,
// login included, is the backend's own code talking to OpenBao's real SystemView.
type noRotationJobs struct{ logical.SystemView }

func (noRotationJobs) DeregisterRotationJob(context.Context, *rotation.RotationJobDeregisterRequest) error {
	return nil
}

func factory(ctx context.Context, conf *logical.BackendConfig) (logical.Backend, error) {
	conf.System = noRotationJobs{conf.System}
	return awsauth.Factory(ctx, conf)
}

func main() {
	meta := &api.PluginAPIClientMeta{}
	if err := meta.FlagSet().Parse(os.Args[1:]); err != nil {
		fmt.Fprintln(os.Stderr, err)
		os.Exit(1)
	}
	err := plugin.ServeMultiplex(&plugin.ServeOpts{
		BackendFactoryFunc: factory,
		TLSProviderFunc:    api.VaultPluginTLSProvider(meta.GetTLSConfig()),
	})
	if err != nil {
		fmt.Fprintln(os.Stderr, err)
		os.Exit(1)
	}
}
