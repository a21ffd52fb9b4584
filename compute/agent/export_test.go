package agent

// SetBeforeChallenge installs a hook that runs just before c sends a
// challenge it has decided on and recorded; an error stops it there, as a
// crash would.
func SetBeforeChallenge(c *Challenger, hook func(job uint64) error) { c.beforeChallenge = hook }
