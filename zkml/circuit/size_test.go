package circuit

import (
	"fmt"
	"os"
	"testing"
	"time"

	"github.com/consensys/gnark-crypto/ecc"
	"github.com/consensys/gnark/frontend"
	"github.com/consensys/gnark/frontend/cs/r1cs"

	"github.com/tenun-chain/tenun/zkml/model"
)

func TestSizes(t *testing.T) {
	if os.Getenv("ZK_SIZES") == "" {
		t.Skip("set ZK_SIZES=1")
	}
	big := model.Arch{Sizes: []int{784, 128, 10}, InBits: 8, Shifts: []int{11}}
	big.BiasBits = []int{model.DefaultBiasBits(784, 255), model.DefaultBiasBits(128, 255)}
	dig := model.Arch{Sizes: []int{64, 32, 10}, InBits: 5, Shifts: []int{5}}
	dig.BiasBits = []int{model.DefaultBiasBits(64, 31), model.DefaultBiasBits(32, 255)}
	for _, a := range []model.Arch{big, dig} {
		if err := a.Validate(); err != nil {
			t.Fatal(err)
		}
		c, _ := NewInference(a)
		t0 := time.Now()
		cs, err := frontend.Compile(ecc.BN254.ScalarField(), r1cs.NewBuilder, c)
		if err != nil {
			t.Fatal(err)
		}
		fmt.Printf("inference %s: %d constraints, %d wires, compile %v\n", a, cs.GetNbConstraints(), cs.GetNbInternalVariables()+cs.GetNbSecretVariables()+cs.GetNbPublicVariables(), time.Since(t0))
	}
	ca, _ := NewAccuracy(dig, 360)
	t0 := time.Now()
	cs, err := frontend.Compile(ecc.BN254.ScalarField(), r1cs.NewBuilder, ca)
	if err != nil {
		t.Fatal(err)
	}
	fmt.Printf("accuracy %s x360: %d constraints, %d wires, compile %v\n", dig, cs.GetNbConstraints(), cs.GetNbInternalVariables()+cs.GetNbSecretVariables()+cs.GetNbPublicVariables(), time.Since(t0))
}
