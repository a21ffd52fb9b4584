package cli

import "github.com/spf13/cobra"

// examples holds the help examples of the commands written before every
// command carried its own. New commands set Example in their definition;
// applyExamples fills only commands that have none, and the command-tree
// test fails for any runnable command left without one.
var examples = map[string]string{
	"tenun annotate": `  tenun annotate --from bob
  tenun annotate --from bob --job 3 --listen 127.0.0.1:7071`,
	"tenun bench compute": `  tenun bench compute
  tenun bench compute --epochs 5 --rounds 3 --skip-market -o json`,
	"tenun bench data": `  tenun bench data
  tenun bench data --records 5000 --contributors 2 -o json
  tenun bench data --blob-mb 1024 --cpuprofile data.prof   # then: go tool pprof data.prof`,
	"tenun bench labels": `  tenun bench labels --data ./crowd
  tenun bench labels --repeat 1 -o json`,
	"tenun demo": `  tenun demo
  tenun demo --exit -o json > summary.json
  tenun demo --home ./demo-chain --verbose`,
	"tenun bench pipeline": `  tenun bench pipeline
  tenun bench pipeline -q -o json`,
	"tenun bench tx": `  tenun bench tx
  tenun bench tx --validators 4 --state-machine=false
  tenun bench tx --block-txs 0 --txs 20000 --accounts 200 -o json   # unbounded blocks
  tenun bench tx --db pebbledb --state-machine=false   # Pebble for every store`,
	"tenun bench yuma": `  tenun bench yuma
  tenun bench yuma --sizes 256,1024 --runs 3 -o json`,
	"tenun bench zk": `  tenun bench zk --only a,b
  tenun bench zk --only c --repeat 1 -o json`,
	"tenun blob cid":        `  tenun blob cid dataset.tar   # the CID ipfs add --cid-version 1 --raw-leaves prints`,
	"tenun blob export-car": `  tenun blob export-car dataset.tar dataset.car   # then: ipfs dag import dataset.car`,
	"tenun blob import-car": `  tenun blob import-car dataset.car dataset.tar`,
	"tenun blob get": `  tenun blob get bafkrei... --out model.json
  tenun blob get bafybei... > data.csv
  tenun blob get bafybei... --car --out dataset.car   # then: ipfs dag import dataset.car`,
	"tenun blob put": `  tenun blob put data.csv --from alice
  tenun blob put model.json --from alice -o json
  tenun blob put dataset.car --car --from alice   # a CAR from ipfs dag export: uploaded under its root`,
	"tenun challenger run": `  tenun challenger run --from eve`,
	"tenun compute fetch":  `  tenun compute fetch 7 --out ./outputs`,
	"tenun contribute": `  tenun contribute --from bob --dataset 1 --synthetic vehicle --count 500
  tenun contribute --from bob --dataset 1 --csv readings.csv --batch 200`,
	"tenun data download": `  tenun data download 1 --from carol --out telemetry.csv
  tenun data download 1 --from carol --format jsonl --version 2`,
	"tenun miner run": `  tenun miner run --from bob --model model.json --subnet 1 --listen 127.0.0.1:8090`,
	"tenun provider run": `  tenun provider run --from dave
  tenun provider run --from dave --price 20utnn --stake 5tnn`,
	"tenun query account": `  tenun query account alice
  tenun query account tenun1... -o json`,
	"tenun query balance": `  tenun query balance bob
  tenun query balance tenun1... -o json`,
	"tenun query block": `  tenun query block
  tenun query block 42 -o json`,
	"tenun query chain": `  tenun query chain supply
  tenun query chain pool/validator -o json`,
	"tenun query compute job": `  tenun query compute job 7`,
	"tenun query compute jobs": `  tenun query compute jobs --status open
  tenun query compute jobs --tenant alice --limit 10 -o json`,
	"tenun query compute params":     `  tenun query compute params -o json`,
	"tenun query compute pool":       `  tenun query compute pool`,
	"tenun query compute provider":   `  tenun query compute provider dave`,
	"tenun query compute providers":  `  tenun query compute providers -o json`,
	"tenun query data contributions": `  tenun query data contributions 1`,
	"tenun query data dataset":       `  tenun query data dataset 1 -o json`,
	"tenun query data datasets":      `  tenun query data datasets`,
	"tenun query data grants":        `  tenun query data grants 1`,
	"tenun query data lineage":       `  tenun query data lineage 1`,
	"tenun query data versions":      `  tenun query data versions 1`,
	"tenun query label job":          `  tenun query label job 1`,
	"tenun query label jobs": `  tenun query label jobs
  tenun query label jobs --status open -o json`,
	"tenun query label results": `  tenun query label results 1
  tenun query label results 1 --format csv --out labels.csv`,
	"tenun query label tasks":    `  tenun query label tasks 1 --worker bob`,
	"tenun query subnet commits": `  tenun query subnet commits 1`,
	"tenun query subnet epoch":   `  tenun query subnet epoch 1 3 -o json`,
	"tenun query subnet epochs":  `  tenun query subnet epochs 1`,
	"tenun query subnet info":    `  tenun query subnet info 1`,
	"tenun query subnet metagraph": `  tenun query subnet metagraph 1
  tenun query subnet metagraph 1 -o json`,
	"tenun query subnet subnets": `  tenun query subnet subnets`,
	"tenun query subnet models":  `  tenun query subnet models 1`,
	"tenun query subnet model":   `  tenun query subnet model 1 1 -o json`,
	"tenun tx subnet enter-model": `  tenun tx subnet enter-model 1 --model 1 --claim 1 --from alice
  tenun tx subnet enter-model 1 --model 1 --claim 1 --royalty 20% --data-share 60% --from alice`,
	"tenun query tx":              `  tenun query tx 5F3A...C2 -o json`,
	"tenun query zkml ceremonies": `  tenun query zkml ceremonies -o json`,
	"tenun query zkml ceremony":   `  tenun query zkml ceremony 1`,
	"tenun query zkml circuit":    `  tenun query zkml circuit 1`,
	"tenun query zkml circuits":   `  tenun query zkml circuits`,
	"tenun query zkml claims":     `  tenun query zkml claims 1`,
	"tenun query zkml model":      `  tenun query zkml model 1 -o json`,
	"tenun query zkml models":     `  tenun query zkml models`,
	"tenun query zkml testset":    `  tenun query zkml testset 9C1D...7E`,
	"tenun tx bank send": `  tenun tx bank send alice bob 5tnn
  tenun tx bank send alice tenun1... 2500000utnn --fees 0.01tnn --memo rent
  tenun tx bank send alice bob 0.5tnn --dry-run`,
	"tenun tx compute challenge": `  tenun tx compute challenge 7 --from eve --archive out.tar`,
	"tenun tx compute commit": `  tenun tx compute commit 7 --from dave --archive out.tar
  tenun tx compute commit 7 --from dave --output-cid bafkrei...`,
	"tenun tx compute decline":   `  tenun tx compute decline 7 --from dave`,
	"tenun tx compute heartbeat": `  tenun tx compute heartbeat --from dave`,
	"tenun tx compute post-job": `  tenun tx compute post-job --from alice --trainer --quick
  tenun tx compute post-job --from alice --module job.wasm --input data=data.csv --deadline 30m -- --epochs 3`,
	"tenun tx compute register": `  tenun tx compute register --from dave --price 10utnn --stake 1tnn`,
	"tenun tx compute reveal":   `  tenun tx compute reveal 7 --from dave --archive out.tar --salt 3f9a...`,
	"tenun tx data buy":         `  tenun tx data buy 1 2 --from carol`,
	"tenun tx data contribute":  `  tenun tx data contribute 1 --csv readings.csv --from bob`,
	"tenun tx data create": `  tenun tx data create telemetry --schema vehicle --price 2tnn --curator-share 10% --from alice
  tenun tx data create reviews --schema schema.json --rate-limit 1000 --rate-window 1h --from alice`,
	"tenun tx data link":     `  tenun tx data link dataset/1@1 label-job/2 labelled --from alice`,
	"tenun tx data snapshot": `  tenun tx data snapshot 1 --note "first release" --from alice`,
	"tenun tx label close":   `  tenun tx label close 1 --from alice`,
	"tenun tx label commit":  `  tenun tx label commit 1 4 positive --from bob`,
	"tenun tx label create-job": `  tenun tx label create-job --title "Sentiment" --labels pos,neg --items reviews.txt --reward 0.001tnn --from alice
  tenun tx label create-job --title Digits --labels 0,1,2,3,4,5,6,7,8,9 --kind grid --items digits.jsonl --confidence 95% --deadline 10m --from alice`,
	"tenun tx label join":   `  tenun tx label join 1 --from bob`,
	"tenun tx label more":   `  tenun tx label more 1 --from bob`,
	"tenun tx label reveal": `  tenun tx label reveal 1 --from bob`,
	"tenun tx stake bond": `  tenun tx stake bond label 1tnn --from bob
  tenun tx stake bond subnet/1 100tnn --from carol`,
	"tenun tx stake unbond":          `  tenun tx stake unbond label 0.5tnn --from bob`,
	"tenun tx subnet commit-weights": `  tenun tx subnet commit-weights 1 --uids 0,1 --values 100,50 --from carol   # prints the salt (64 hex digits)`,
	"tenun tx subnet create": `  tenun tx subnet create --task "digits predict API" --dataset-file eval.csv --tempo 10m --from alice
  tenun tx subnet create --task digits --dataset bafkrei... --kappa 50% --from alice`,
	"tenun tx subnet register": `  tenun tx subnet register 1 --role miner --endpoint http://127.0.0.1:8090 --from bob
  tenun tx subnet register 1 --role miner --endpoint http://127.0.0.1:8090 --serves 1 --from bob
  tenun tx subnet register 1 --role validator --stake 100tnn --from carol`,
	"tenun tx subnet reveal-weights": `  tenun tx subnet reveal-weights 1 --uids 0,1 --values 100,50 --salt 9a3c...e71f --from carol   # the 64 hex digits commit-weights printed`,
	"tenun tx subnet set-weights":    `  tenun tx subnet set-weights 1 --uids 0,1 --values 100,50 --from carol`,
	"tenun tx zkml commit-model":     `  tenun tx zkml commit-model model.json --from alice`,
	"tenun tx zkml register-circuit": `  tenun tx zkml register-circuit keys/circuit.json --from alice`,
	"tenun tx zkml register-testset": `  tenun tx zkml register-testset --csv digits.csv.gz --rows 1437: --arch-from model.json --name digits-test --from alice
  tenun tx zkml register-testset --csv digits.csv.gz --rows 797: --split 4 --arch-from model.json --name digits-1000 --from alice
  tenun tx zkml register-testset --pieces 1F0C...9A,2B7E...04 --name two-pieces --from alice`,
	"tenun tx zkml submit-proof": `  tenun tx zkml submit-proof proof.json --model 1 --circuit keys/circuit.json --from alice
  tenun tx zkml submit-proof piece2.proof.json --model 1 --circuit keys/acc-250.json --set 0E4D...B1 --from alice`,
	"tenun validator run": `  tenun validator run --from carol --subnet 1
  tenun validator run --from carol --subnet 1 --strategy copier`,
	"tenun yuma simulate": `  tenun yuma simulate scenario.json
  tenun yuma simulate scenario.json --fixed -o json`,
	"tenun zk compile": `  tenun zk compile --model model.json --out keys/circuit
  tenun zk compile --kind accuracy --model model.json --out keys/digits-acc`,
	"tenun zk prove": `  tenun zk prove --keys keys/circuit.json --model model.json --row 1500
  tenun zk prove --keys keys/digits-acc.json --model model.json --data-rows 1437:1797 --out acc.proof.json
  tenun zk prove --keys keys/acc-250.json --model model.json --data-rows 797: --piece 2/4 --out piece2.proof.json`,
	"tenun zk quantize": `  tenun zk quantize --float float.json --out model.json
  tenun zk quantize --float float.json --percentile 99.9% --out model.json`,
	"tenun zk setup": `  tenun zk setup --keys keys/circuit.json`,
	"tenun zk train": `  tenun zk train --out float.json
  tenun zk train --hidden 32,16 --epochs 50 --out float.json`,
	"tenun zk verify": `  tenun zk verify --keys keys/circuit.json --proof proof.json
  tenun zk verify --keys keys/digits-acc.json --proof acc.proof.json --data-rows 1437:1797
  tenun zk verify --keys keys/acc-250.json --proof piece2.proof.json --data-rows 797: --piece 2/4`,
}

// applyExamples sets the examples above on the commands that have none.
func applyExamples(c *cobra.Command) {
	if c.Example == "" {
		c.Example = examples[c.CommandPath()]
	}
	for _, s := range c.Commands() {
		applyExamples(s)
	}
}
