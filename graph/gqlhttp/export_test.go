package gqlhttp

// Bytes reports the estimated bytes the prepared documents hold.
func (ds *Documents) Bytes() int { return ds.bytes() }

// Size is the bytes d is charged.
func (d *Document) Size() int { return d.size }
