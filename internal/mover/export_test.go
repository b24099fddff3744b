package mover

// ForceNamedTemps makes s write small files under named temporary files,
// as on file systems without O_TMPFILE.
func ForceNamedTemps(s *Server) { s.root.ForceNamedTemps() }
