package auth

// RotateGroup hands the external tests rotateGroup: it rotates each
// (presented, next) refresh token pair in one statement, as a group of
// concurrent fresh refreshes would be, and reports which of them rotated.
func (s *Sessions) RotateGroup(pairs [][2]string) ([]bool, error) {
	group := make([]rotation, len(pairs))
	for i, p := range pairs {
		group[i] = rotation{hash: hashToken(p[0]), nextHash: hashToken(p[1])}
	}
	rows, err := s.rotateGroup(group)
	if err != nil {
		return nil, err
	}
	rotated := make([]bool, len(rows))
	for i, r := range rows {
		rotated[i] = r != nil
	}
	return rotated, nil
}
