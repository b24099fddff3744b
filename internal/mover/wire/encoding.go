package wire

import "unsafe"

func (m *Hello) encode(e *Encoder) {
	e.Uint(uint64(m.Version))
	e.Blob(m.Session)
	e.Uint(uint64(m.Role))
}

func (m *Hello) decode(d *Decoder) {
	m.Version = d.Uint32()
	m.Session = clone(d.Blob())
	m.Role = Role(d.Uint())
}

func (m *HelloOK) encode(e *Encoder) {
	e.Uint(uint64(m.Version))
	e.Bool(m.Chown)
	m.Last.encode(e)
}

func (m *HelloOK) decode(d *Decoder) {
	m.Version = d.Uint32()
	m.Chown = d.Bool()
	m.Last.decode(d)
}

func (s *SyncState) encode(e *Encoder) {
	e.Blob(s.Source)
	e.Int(s.Start)
}

func (s *SyncState) decode(d *Decoder) {
	s.Source = clone(d.Blob())
	s.Start = d.Int()
}

func (m *Error) encode(e *Encoder) {
	e.Uint(uint64(m.Code))
	e.String(m.Message)
	e.String(m.Path)
}

func (m *Error) decode(d *Decoder) {
	m.Code = ErrCode(d.Uint())
	m.Message = d.String()
	m.Path = d.String()
}

func (*OK) encode(*Encoder) {}

func (*OK) decode(*Decoder) {}

func (m *Done) encode(e *Encoder) {
	m.State.encode(e)
	e.Bool(m.Final)
}

func (m *Done) decode(d *Decoder) {
	m.State.decode(d)
	m.Final = d.Bool()
}

func (m *OpenDir) encode(e *Encoder) {
	e.String(m.Path)
	e.Bool(m.Create)
	e.Bool(m.Xattrs)
}

func (m *OpenDir) decode(d *Decoder) {
	m.Path = d.String()
	m.Create = d.Bool()
	m.Xattrs = d.Bool()
}

func (m *DirList) encode(e *Encoder) {
	e.Uint(uint64(len(m.Entries)))
	for i := range m.Entries {
		en := &m.Entries[i]
		e.String(en.Name)
		en.Meta.encode(e)
		e.Uint(en.Ino)
		e.Uint(en.Nlink)
		e.Blob(en.XattrSum)
	}
	e.Bool(m.More)
}

func (m *DirList) decode(d *Decoder) {
	n := d.Count(13, int(unsafe.Sizeof(Entry{})))
	m.Entries = make([]Entry, n)
	for i := range m.Entries {
		en := &m.Entries[i]
		en.Name = d.String()
		en.Meta.decode(d)
		en.Ino = d.Uint()
		en.Nlink = d.Uint()
		en.XattrSum = clone(d.Blob())
		if len(en.XattrSum) > MaxXattrSum {
			d.fail("xattr digest too long")
		}
	}
	m.More = d.Bool()
}

func (m *Ops) encode(e *Encoder) {
	e.Uint(uint64(len(m.Ops)))
	for i := range m.Ops {
		op := &m.Ops[i]
		e.Uint(uint64(op.Kind))
		e.String(op.Path)
		e.String(op.Target)
		op.Meta.encode(e)
	}
}

func (m *Ops) decode(d *Decoder) {
	n := d.Count(12, int(unsafe.Sizeof(Op{})))
	m.Ops = make([]Op, n)
	for i := range m.Ops {
		op := &m.Ops[i]
		op.Kind = OpKind(d.Uint())
		op.Path = d.String()
		op.Target = d.String()
		op.Meta.decode(d)
	}
}

func (m *Batch) encode(e *Encoder) {
	e.Uint(uint64(len(m.Files)))
	for i := range m.Files {
		f := &m.Files[i]
		e.String(f.Path)
		f.Meta.encode(e)
		e.Uint(uint64(len(f.Segments)))
		for _, s := range f.Segments {
			e.Int(s.Off)
			e.Blob(s.Data)
		}
	}
}

func (m *Batch) decode(d *Decoder) {
	n := d.Count(12, int(unsafe.Sizeof(File{})))
	m.Files = make([]File, n)
	for i := range m.Files {
		f := &m.Files[i]
		f.Path = d.String()
		f.Meta.decode(d)
		segs := d.Count(2, int(unsafe.Sizeof(Segment{})))
		f.Segments = make([]Segment, segs)
		for j := range f.Segments {
			f.Segments[j] = Segment{Off: d.Int(), Data: d.Blob()}
		}
	}
}

func (m *FileBegin) encode(e *Encoder) {
	e.Uint(m.ID)
	e.String(m.Path)
	e.Int(m.Size)
	e.Bool(m.Delta)
	e.String(m.Basis)
}

func (m *FileBegin) decode(d *Decoder) {
	m.ID = d.Uint()
	m.Path = d.String()
	m.Size = d.Int()
	m.Delta = d.Bool()
	m.Basis = d.String()
}

func (m *BeginOK) encode(e *Encoder) {
	e.Int(m.OldSize)
	e.Bool(m.Mapped)
	e.Uint(uint64(len(m.Extents)))
	for _, x := range m.Extents {
		e.Int(x.Off)
		e.Int(x.Len)
	}
}

func (m *BeginOK) decode(d *Decoder) {
	m.OldSize = d.Int()
	m.Mapped = d.Bool()
	n := d.Count(2, int(unsafe.Sizeof(Extent{})))
	if n > MaxBasisExtents {
		d.fail("too many basis extents")
		return
	}
	m.Extents = make([]Extent, n)
	for i := range m.Extents {
		m.Extents[i] = Extent{Off: d.Int(), Len: d.Int()}
	}
}

func (m *RangeHashes) encode(e *Encoder) {
	e.Uint(m.ID)
	e.Int(m.Off)
	e.Int(m.Len)
	e.Int(m.BlockSize)
}

func (m *RangeHashes) decode(d *Decoder) {
	m.ID = d.Uint()
	m.Off = d.Int()
	m.Len = d.Int()
	m.BlockSize = d.Int()
}

func (m *Hashes) encode(e *Encoder) {
	e.Uint(uint64(len(m.Sums)))
	for _, s := range m.Sums {
		e.Blob(s)
	}
}

func (m *Hashes) decode(d *Decoder) {
	n := d.Count(1, int(unsafe.Sizeof([]byte{})))
	m.Sums = make([][]byte, n)
	for i := range m.Sums {
		m.Sums[i] = clone(d.Blob())
	}
}

func (m *Data) encode(e *Encoder) {
	e.Uint(m.ID)
	e.Int(m.Off)
	e.Blob(m.Data)
}

func (m *Data) decode(d *Decoder) {
	m.ID = d.Uint()
	m.Off = d.Int()
	m.Data = d.Blob()
}

func (m *Zero) encode(e *Encoder) {
	e.Uint(m.ID)
	e.Int(m.Off)
	e.Int(m.Len)
}

func (m *Zero) decode(d *Decoder) {
	m.ID = d.Uint()
	m.Off = d.Int()
	m.Len = d.Int()
}

func (m *RangeDone) encode(e *Encoder) { e.Uint(m.ID) }

func (m *RangeDone) decode(d *Decoder) { m.ID = d.Uint() }

func (m *Commit) encode(e *Encoder) {
	e.Uint(m.ID)
	m.Meta.encode(e)
}

func (m *Commit) decode(d *Decoder) {
	m.ID = d.Uint()
	m.Meta.decode(d)
}

func (m *Abort) encode(e *Encoder) {
	e.Uint(m.ID)
	e.Bool(m.Keep)
}

func (m *Abort) decode(d *Decoder) {
	m.ID = d.Uint()
	m.Keep = d.Bool()
}

func (m *HashFiles) encode(e *Encoder) {
	e.Uint(uint64(len(m.Paths)))
	for _, p := range m.Paths {
		e.String(p)
	}
}

func (m *HashFiles) decode(d *Decoder) {
	n := d.Count(1, int(unsafe.Sizeof("")))
	m.Paths = make([]string, n)
	for i := range m.Paths {
		m.Paths[i] = d.String()
	}
}
