// TODO placeholder
